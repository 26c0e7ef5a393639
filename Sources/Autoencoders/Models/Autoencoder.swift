import Compute
import Foundation
import Layers

/// An autoencoder of any ``ModelKind`` on one device: its networks, its parameters in one flat
/// ``ParameterStore``, and the workspaces of one batch size, allocated once.
///
/// ``trainStep(_:context:klWeight:capacity:)`` runs the forward pass, the loss terms, and the backward pass,
/// adding gradients into the store (the caller zeroes them and steps the optimizer); it adds the batch's loss
/// terms to device-side epoch sums read by ``readEpochSums()``. A step allocates nothing, reads nothing back to
/// the host and never waits for the device (capacity-controlled training included: the sign of KL − C stays on
/// the device); the counts of ``DeviceCore/activity`` show it.
///
/// Losses are per sample: the reconstruction term is summed over features (BCE or squared error), and the
/// objective is its batch mean plus the latent's terms. The kind chooses the latent between encoder and decoder
/// (``ModelConfig/makeLatent(bodyWidth:)``): the plain code of ae and denoising (``PlainCode``), the Gaussian of
/// the VAEs with β·KL or γ·|KL − C| and free bits (``GaussianLatent``), the vector quantizer of VQ-VAE
/// (``VectorQuantizer``), the sparse code (``SparseCode``), and the contractive penalty λ·‖∂h/∂x‖²_F
/// (``ContractivePenalty``).
public final class Autoencoder {
    /// The model's definition.
    public let config: ModelConfig
    /// The device it runs on.
    public let device: any Device
    /// Every parameter, gradient and state tensor.
    public let store: ParameterStore
    /// Samples per step.
    public let batchSize: Int
    /// Features per sample.
    public var inputDimension: Int { config.inputDimension }
    /// Width of the latent code.
    public var latentDim: Int { config.latentDim }

    let encoder: Sequential
    let decoder: Sequential
    /// What sits between the encoder and the decoder: the kind's code, loss terms and statistics.
    let latent: any Latent

    /// Per-sample loss terms of the last batch (batch elements each): adjacent rows of ``termsPerSample``.
    public let reconstructionPerSample: BufferSlice
    public let klPerSample: BufferSlice
    public let penaltyPerSample: BufferSlice
    /// [reconstruction; KL; penalty] per sample (3 × batch), in the order of their ``EpochSums`` slots, so that
    /// one ``ReductionPrimitives/accumulateRowSums(_:rows:cols:weights:into:total:)`` adds a step's terms to the
    /// epoch sums. Terms a kind never computes stay zero.
    let termsPerSample: Buffer
    /// Decoder outputs of the last forward pass, as probabilities (Bernoulli) or values (Gaussian).
    let output: Buffer
    /// ∂L/∂(decoder output) of a training step.
    let outputGradient: Buffer
    /// Device-side sums over an epoch: see ``EpochSums``.
    let sums: Buffer

    /// Builds the networks for `config`, allocates the parameters on `device` and initializes them from `seed`
    /// (PyTorch's default initializations, drawn identically on every backend), with workspaces for
    /// `batchSize` samples.
    public init(config: ModelConfig, device: any Device, batchSize: Int, seed: UInt64) throws {
        try config.validate()
        guard batchSize > 0 else { throw ConfigError.invalid("--batch-size must be positive, got \(batchSize)") }
        self.config = config
        self.device = device
        self.batchSize = batchSize
        let body = Networks.encoderBody(config)
        latent = config.makeLatent(bodyWidth: body.width)
        encoder = Sequential(body.layers + latent.encoderHead)
        decoder = Networks.decoder(config)
        // the state dict's order: encoder, latent heads, decoder, latent tables (as the PyTorch modules register them)
        var layout = ParameterLayout()
        encoder.declareParameters(in: &layout, prefix: "encoder.")
        latent.declareHeads(in: &layout)
        decoder.declareParameters(in: &layout, prefix: "decoder.")
        latent.declareTables(in: &layout)
        let latentStream = layout.reserveRandomStream(), corruptionStream = layout.reserveRandomStream()
        store = try ParameterStore(device: device, layout: layout)
        store.initialize(seed: seed)

        let b = batchSize, l = config.latentDim, n = config.inputDimension
        termsPerSample = try device.makeBuffer(count: EpochSums.terms * b, dtype: .float32)
        reconstructionPerSample = termsPerSample.slice(0, b)
        klPerSample = termsPerSample.slice(b, b)
        penaltyPerSample = termsPerSample.slice(2 * b, b)
        output = try device.makeBuffer(count: b * n, dtype: .float32)
        outputGradient = try device.makeBuffer(count: b * n, dtype: .float32)
        sums = try device.makeBuffer(count: EpochSums.slots, dtype: .float32)

        let encoderInput = config.architecture == .conv ? config.inputShape : [n]
        try encoder.prepare(device: device, store: store, inputShape: encoderInput,
                            batch: latent.encoderRowsPerSample * b,
                            fusion: Fusion(derivativeAppliedDownstream: latent.appliesEncoderOutputDerivative))
        try latent.prepare(LatentSetting(device: device, store: store, batch: b, latentDim: l, inputDimension: n,
                                         klPerSample: klPerSample, penaltyPerSample: penaltyPerSample,
                                         epochObjective: sums.slice(EpochSums.objective, 1),
                                         epochNonzero: sums.slice(EpochSums.nonzero, 1),
                                         latentStream: latentStream, corruptionStream: corruptionStream),
                           encoder: encoder)
        try decoder.prepare(device: device, store: store, inputShape: [l], batch: b)
        try latent.connect(decoder: decoder, outputGradient: outputGradient.whole,
                           reconstructionPerSample: reconstructionPerSample)
    }

    /// The named tensors of the model in state-dict order (parameters and state).
    public var entries: [ParameterStore.Entry] { store.entries }
}

/// Slots of the device-side epoch sums. The per-sample terms' slots (reconstruction, KL, penalty) are adjacent,
/// in the order of the rows of ``Autoencoder/termsPerSample``.
public enum EpochSums {
    static let objective = 0, reconstruction = 1, kl = 2, penalty = 3, nonzero = 4
    static let slots = 5
    /// Per-sample terms, from slot ``reconstruction`` on.
    static let terms = 3
}
