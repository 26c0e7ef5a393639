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
/// objective is its batch mean plus, by kind,
/// - VAE / β-VAE: β·KL(q(z|x) ‖ N(0, I)), or γ·|KL − C| with a capacity schedule; free bits floor the
///   batch-mean KL of each dimension at λ (gradients of dimensions below the floor are switched off);
/// - VQ-VAE: ‖sg(z_e) − e‖² + β·‖z_e − sg(e)‖² summed over the sample's code vectors (only the commitment
///   term with EMA codebook updates); gradients pass the quantizer straight through;
/// - sparse: λ·Σ|z| on ReLU codes, or top-k codes;
/// - contractive: λ·‖∂h/∂x‖²_F. For a one-layer sigmoid encoder h = σ(Wx + b) it is exact,
///   Σ_j (h_j(1 − h_j))² Σ_i W_ji². Deeper encoders use the stochastic estimate ‖h(x + σε) − h(x)‖²/σ² with
///   ε ~ N(0, I), whose expectation is ‖J‖²_F + O(σ²) (both points are encoded as one batch of 2B).
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
    let fcMu: Linear?
    let fcLogvar: Linear?
    let decoder: Sequential
    let codebookID: ParameterID?
    let clusterSizeID: StateID?
    let embedAverageID: StateID?
    let latentPurpose: Int
    let corruptionPurpose: Int
    /// T = Σ_k N_k of the EMA codebook (known on the host: each step adds (1 − γ)·vectors); saved in checkpoints.
    public internal(set) var emaTotal: Double = 0

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
    /// Device-side sums over an epoch: see ``EpochSums``.
    let sums: Buffer
    let klDimensionSums: Buffer
    let unitActivity: Buffer
    let codeCounts: Buffer
    let work: Workspaces

    /// Builds the networks for `config`, allocates the parameters on `device` and initializes them from `seed`
    /// (PyTorch's default initializations, drawn identically on every backend), with workspaces for
    /// `batchSize` samples.
    public init(config: ModelConfig, device: any Device, batchSize: Int, seed: UInt64) throws {
        try config.validate()
        guard batchSize > 0 else { throw ConfigError.invalid("--batch-size must be positive, got \(batchSize)") }
        self.config = config
        self.device = device
        self.batchSize = batchSize
        let (encoder, encoderWidth) = Networks.encoder(config)
        self.encoder = encoder
        decoder = Networks.decoder(config)
        var layout = ParameterLayout()
        encoder.declareParameters(in: &layout, prefix: "encoder.")
        if config.kind.isVariational {
            let mu = Linear(encoderWidth, config.latentDim), logvar = Linear(encoderWidth, config.latentDim)
            mu.declareParameters(in: &layout, prefix: "fc_mu.")
            logvar.declareParameters(in: &layout, prefix: "fc_logvar.")
            // fc_logvar adds its input gradient to fc_mu's and multiplies the sum by the encoder's last act′
            encoder.fuseOutputDerivative(into: [logvar])
            (fcMu, fcLogvar) = (mu, logvar)
        } else {
            (fcMu, fcLogvar) = (nil, nil)
        }
        decoder.declareParameters(in: &layout, prefix: "decoder.")
        if config.kind == .vqVAE {
            let k = config.vq.codebookSize, d = config.vq.codeDim
            // nn.Embedding's default initialization is N(0, 1); the uniform ±1/K of the VQ-VAE paper works better.
            let bound = 1 / Float(k)
            codebookID = layout.parameter("codebook.weight", shape: [k, d], initializer: .uniform(low: -bound, high: bound))
            if config.vq.ema {
                clusterSizeID = layout.state("codebook.cluster_size", shape: [k], initializer: .constant(0))
                embedAverageID = layout.state("codebook.embed_avg", shape: [k, d], initializer: .constant(0))
            } else {
                (clusterSizeID, embedAverageID) = (nil, nil)
            }
        } else {
            (codebookID, clusterSizeID, embedAverageID) = (nil, nil, nil)
        }
        latentPurpose = layout.reserveRandomStream()
        corruptionPurpose = layout.reserveRandomStream()
        store = try ParameterStore(device: device, layout: layout)
        store.initialize(seed: seed)
        if let codebookID, let embedAverageID {
            device.copy(store.value(codebookID), to: store.state(embedAverageID))
        }

        let b = batchSize, l = config.latentDim, n = config.inputDimension
        let encoderBatch = config.kind == .contractive && !config.contractiveIsExact ? 2 * b : b
        let encoderInput = config.architecture == .conv ? config.inputShape : [n]
        try encoder.prepare(device: device, store: store, inputShape: encoderInput, batch: encoderBatch)
        try fcMu?.prepare(device: device, store: store, inputShape: [encoderWidth], batch: b)
        try fcLogvar?.prepare(device: device, store: store, inputShape: [encoderWidth], batch: b)
        try decoder.prepare(device: device, store: store, inputShape: [l], batch: b)

        termsPerSample = try device.makeBuffer(count: EpochSums.terms * b, dtype: .float32)
        reconstructionPerSample = termsPerSample.slice(0, b)
        klPerSample = termsPerSample.slice(b, b)
        penaltyPerSample = termsPerSample.slice(2 * b, b)
        output = try device.makeBuffer(count: b * n, dtype: .float32)
        sums = try device.makeBuffer(count: EpochSums.slots, dtype: .float32)
        klDimensionSums = try device.makeBuffer(count: l, dtype: .float32)
        unitActivity = try device.makeBuffer(count: l, dtype: .float32)
        codeCounts = try device.makeBuffer(count: max(config.vq.codebookSize, 1), dtype: .float32)
        work = try Workspaces(config: config, device: device, batch: b, encoderBatch: encoderBatch)
    }

    /// The named tensors of the model in state-dict order (parameters and state).
    public var entries: [ParameterStore.Entry] { store.entries }
}

/// Buffers of one batch size used between the networks.
struct Workspaces {
    let input: Buffer        // corrupted or stacked encoder input [encoderBatch, n]
    let dlogits: Buffer      // ∂L/∂decoder output [b, n]
    let eps: Buffer          // reparameterization noise [b, l]
    let z: Buffer            // latent fed to the decoder [b, l]
    let dz: Buffer           // [b, l]
    let dmu: Buffer
    let dlogvar: Buffer
    let klDimension: Buffer  // batch-mean KL per dimension [l]
    let mask: Buffer         // free-bits mask [l] / ones [b, l]
    let ones: Buffer         // [b, l] of ones
    let scratch: Buffer      // [b, l]
    let scratch2: Buffer     // [b, l]
    let columnScale: Buffer  // [l]
    let rowScratch: Buffer   // [b]
    let codes: Buffer        // int32 [b·l/d]
    let codebookScratch: Buffer  // [k, d]
    let counts: Buffer       // [k]
    let capacity: Buffer     // [3] capacity objective: batch-mean KL, |KL − C|, sign(KL − C)
    let latentMoments: Buffer  // [2, l] Σ μ and Σ μ² over a data set (active units)

    init(config: ModelConfig, device: any Device, batch b: Int, encoderBatch: Int) throws {
        let l = config.latentDim, n = config.inputDimension
        let k = config.vq.codebookSize, d = max(config.vq.codeDim, 1)
        func floats(_ count: Int) throws -> Buffer { try device.makeBuffer(count: max(count, 1), dtype: .float32) }
        input = try floats(encoderBatch * n)
        dlogits = try floats(b * n)
        eps = try floats(b * l)
        z = try floats(b * l)
        dz = try floats(encoderBatch * l)
        dmu = try floats(b * l)
        dlogvar = try floats(b * l)
        klDimension = try floats(l)
        mask = try floats(l)
        ones = try floats(b * l)
        device.fill(ones.whole, with: 1)
        scratch = try floats(encoderBatch * l)
        scratch2 = try floats(b * l)
        columnScale = try floats(l)
        rowScratch = try floats(b)
        codes = try device.makeBuffer(count: max(b * l / d, 1), dtype: .int32)
        codebookScratch = try floats(k * d)
        counts = try floats(k)
        capacity = try floats(3)
        latentMoments = try floats(2 * l)
    }
}

/// Slots of the device-side epoch sums. The per-sample terms' slots (reconstruction, KL, penalty) are adjacent,
/// in the order of the rows of ``Autoencoder/termsPerSample``.
public enum EpochSums {
    static let objective = 0, reconstruction = 1, kl = 2, penalty = 3, nonzero = 4
    static let slots = 5
    /// Per-sample terms, from slot ``reconstruction`` on.
    static let terms = 3
}
