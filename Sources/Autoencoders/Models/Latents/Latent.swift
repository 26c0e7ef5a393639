import Compute
import Foundation
import Layers

/// What a model kind puts between its encoder's shared body and its decoder: the layers that end the encoder, the
/// latent's own parameters and buffers, its forward and backward pass with their loss terms, its epoch statistics,
/// and what the applications ask of it (the code ``Autoencoder/encode(_:)`` returns, the prior to sample from).
///
/// One family per type: ``PlainCode`` (ae, denoising), ``GaussianLatent`` (vae, beta-vae), ``VectorQuantizer``
/// (vq-vae), ``SparseCode`` (sparse) and ``ContractivePenalty`` (contractive). ``ModelConfig/makeLatent(bodyWidth:)`` is the
/// one switch over ``ModelKind``. A latent is used in the order of a ``Layer``: created, its tensors declared,
/// prepared for one batch size, then run.
protocol Latent: AnyObject {
    /// The loss terms besides the reconstruction that the latent writes per sample.
    var terms: LatentTerms { get }

    /// The ``ModelConfig`` fields (their JSON keys) the latent reads among those only some kinds use.
    var configurationKeys: Set<String> { get }

    /// The layers that end the encoder after its shared body (created once: the latent may hold on to them).
    var encoderHead: [any Layer] { get }

    /// Declares the tensors that follow the encoder in the state dict (the VAE heads).
    func declareHeads(in layout: inout ParameterLayout)

    /// Declares the tensors that follow the decoder in the state dict (a codebook).
    func declareTables(in layout: inout ParameterLayout)

    /// Encoder rows per sample: 2 when the encoder sees every sample twice.
    var encoderRowsPerSample: Int { get }

    /// Whether the latent's layers reading the encoder output apply act′ of the encoder's last activation to the
    /// gradient they hand back (the encoder is prepared with ``Fusion/derivativeAppliedDownstream``, and its
    /// ``FusionPlan/outputActivation`` says whether it took the offer).
    var appliesEncoderOutputDerivative: Bool { get }

    /// Finds the latent's parameters in the store and allocates its buffers for `setting.batch` samples, after
    /// the encoder is prepared.
    func prepare(_ setting: LatentSetting, encoder: Sequential) throws

    /// The encoder input of a batch `x` (training or evaluation as `context` says): `x` itself, a corrupted copy,
    /// or `x` stacked with a perturbed copy.
    func encoderInput(_ x: BufferSlice, context: StepContext) -> BufferSlice

    /// From the encoder output `h` to the decoder input, writing the loss terms the forward pass yields
    /// (KL per sample, quantization penalty). In evaluation (`context.training` false) it also writes the terms
    /// a training step computes in ``backward(_:h:context:kl:)``.
    func forward(_ h: BufferSlice, context: StepContext) -> BufferSlice

    /// From ∂L/∂(decoder input) to ∂L/∂(encoder output) after ``forward(_:context:)`` of the same `h`, adding the
    /// latent's loss terms and their gradients (parameter gradients go to the store).
    func backward(_ dz: BufferSlice, h: BufferSlice, context: StepContext, kl: Autoencoder.KLTerm) -> BufferSlice

    /// The code of a batch from its encoder output (μ for a Gaussian latent), for the applications.
    func code(_ h: BufferSlice) -> BufferSlice

    /// The weight of the per-sample KL term in the epoch's objective sum (0 where the latent adds its own term).
    func objectiveKLWeight(_ kl: Autoencoder.KLTerm) -> Float

    /// Called once the decoder is prepared, with the buffers of ∂L/∂(decoder output) and of the reconstruction term
    /// per sample that a training step writes before ``backward(_:h:context:kl:)``: for a latent whose loss reads
    /// the decoder (``AuxiliaryCode``).
    func connect(decoder: Sequential, outputGradient: BufferSlice, reconstructionPerSample: BufferSlice) throws

    /// Device-side accumulators of an epoch besides the loss sums, by checkpoint name (zeroed at each epoch start).
    var epochAccumulators: [(name: String, buffer: Buffer)] { get }

    /// Device-side state that lives across epochs and that a checkpoint keeps, by name (never zeroed).
    var runningState: [(name: String, buffer: Buffer)] { get }

    /// Fills in the latent's terms of an epoch's metrics from the loss sums over `samples` training samples.
    func describeEpoch(into metrics: inout EpochMetrics, sums: EpochSumValues, samples: Int, klWeight: Double)

    /// Called once by a ``Trainer`` of `model` before its first step, with its data (a sparse autoencoder's tied
    /// start and the total deviation its explained variance divides by).
    func startTraining(model: Autoencoder, training: any BatchedRows, validation: (any BatchedRows)?, seed: UInt64) throws

    /// Upkeep of every step between the complete gradient (summed over the ranks) and the optimizer's update.
    func beforeUpdate()

    /// Upkeep of every step after the optimizer's update.
    func afterUpdate()

    /// After a training epoch and its validation: the latent's own metrics of it, and upkeep that may reset the
    /// optimizer's state of re-initialized parameters (an SAE's dead-latent resampling).
    func review(_ epoch: EpochReview, into metrics: inout EpochMetrics) throws

    /// Upkeep at the end of a training epoch, before validation (VQ-VAE's dead-code restarts), drawing from the
    /// first `rows` samples of a (seed, epoch) order of `data`: the global batch, so that data-parallel ranks,
    /// whose model takes a shard of it, draw what one process draws.
    func endEpoch(data: any BatchedRows, rows: Int, seed: UInt64, epoch: Int) throws

    /// The code indices of the last ``code(_:)`` and how many each sample has (VQ-VAE), else nil.
    var codeIndices: (indices: BufferSlice, perSample: Int)? { get }

    /// The prior to draw new codes from: the latent's own, or one fitted to the training `codes`.
    func prior(codes: () throws -> LatentCodes) throws -> LatentPrior

    /// Host-side values a checkpoint keeps, by name (VQ-VAE's EMA total).
    var hostState: [String: Double] { get set }
}

/// What a ``Trainer`` hands the latent after an epoch (``Latent/review(_:into:)``).
struct EpochReview {
    let model: Autoencoder
    /// The epoch's number, from 1.
    let number: Int
    /// Whether no training follows it.
    let isLast: Bool
    let seed: UInt64
    let training: any BatchedRows
    let validation: (any BatchedRows)?
    /// The evaluation of `validation` after the epoch.
    let validationResult: EvaluationResult?
    /// The epoch's summed reconstruction term scaled to every training row (Σ‖x − x̂‖² for squared errors).
    let trainingSquaredError: Double
    let optimizer: any Optimizer
}

/// The per-sample loss terms a latent reports besides the reconstruction.
struct LatentTerms: OptionSet {
    let rawValue: Int
    /// KL(q(z|x) ‖ p(z)) of a Gaussian posterior; its evaluation draws z, so the loss is a sampled estimate.
    static let kl = LatentTerms(rawValue: 1)
    /// A penalty (quantization, sparsity, contraction).
    static let penalty = LatentTerms(rawValue: 2)
}

/// Where a latent writes its terms and draws its random numbers, fixed when the model is prepared.
struct LatentSetting {
    let device: any Device
    let store: ParameterStore
    /// Samples per batch.
    let batch: Int
    let latentDim: Int
    let inputDimension: Int
    /// KL per sample (batch elements).
    let klPerSample: BufferSlice
    /// Penalty per sample (batch elements).
    let penaltyPerSample: BufferSlice
    /// The epoch sums' objective slot, for terms that are not per-sample sums (the capacity objective).
    let epochObjective: BufferSlice
    /// The epoch sums' count of non-zero code entries.
    let epochNonzero: BufferSlice
    /// Random-stream purposes of the latent's draws and of the input's corruption.
    let latentStream: Int
    let corruptionStream: Int

    /// A float32 buffer of `count` elements (at least one).
    func floats(_ count: Int) throws -> Buffer { try device.makeBuffer(count: max(count, 1), dtype: .float32) }
}

extension Latent {
    func declareHeads(in layout: inout ParameterLayout) {}
    func declareTables(in layout: inout ParameterLayout) {}
    var encoderRowsPerSample: Int { 1 }
    var appliesEncoderOutputDerivative: Bool { false }
    func encoderInput(_ x: BufferSlice, context: StepContext) -> BufferSlice { x }
    func code(_ h: BufferSlice) -> BufferSlice { forward(h, context: StepContext(training: false)) }
    func objectiveKLWeight(_ kl: Autoencoder.KLTerm) -> Float { 0 }
    func connect(decoder: Sequential, outputGradient: BufferSlice, reconstructionPerSample: BufferSlice) throws {}
    func startTraining(model: Autoencoder, training: any BatchedRows, validation: (any BatchedRows)?, seed: UInt64) throws {}
    func beforeUpdate() {}
    func afterUpdate() {}
    func review(_ epoch: EpochReview, into metrics: inout EpochMetrics) throws {}
    var epochAccumulators: [(name: String, buffer: Buffer)] { [] }
    var runningState: [(name: String, buffer: Buffer)] { [] }
    func endEpoch(data: any BatchedRows, rows: Int, seed: UInt64, epoch: Int) throws {}
    var codeIndices: (indices: BufferSlice, perSample: Int)? { nil }
    var hostState: [String: Double] {
        get { [:] }
        set {}
    }

    /// Without a prior of its own: a diagonal Gaussian fitted to the training codes.
    func prior(codes: () throws -> LatentCodes) throws -> LatentPrior {
        let codes = try codes()
        guard codes.count > 0 else { throw ConfigError.invalid("cannot fit a prior without training samples") }
        return .gaussian(mean: codes.mean(), std: codes.standardDeviation())
    }

}

extension ModelConfig {
    /// The latent of the model's kind on an encoder body of `bodyWidth` output features: the one place the kind
    /// is switched on.
    func makeLatent(bodyWidth: Int) -> any Latent {
        switch kind {
        case .ae: return PlainCode(config: self, bodyWidth: bodyWidth, corruption: nil)
        case .denoising: return PlainCode(config: self, bodyWidth: bodyWidth, corruption: corruption.corruption)
        case .vae, .betaVAE: return GaussianLatent(config: self, bodyWidth: bodyWidth)
        case .vqVAE: return VectorQuantizer(config: self, bodyWidth: bodyWidth)
        case .sparse: return SparseCode(config: self, bodyWidth: bodyWidth)
        case .contractive: return ContractivePenalty(config: self, bodyWidth: bodyWidth)
        }
    }
}
