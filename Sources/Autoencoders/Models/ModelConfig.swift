import Compute
import Foundation

/// The autoencoder families.
public enum ModelKind: String, Codable, CaseIterable, Sendable {
    /// Deterministic encoder and decoder, reconstruction loss only.
    case ae
    /// Variational autoencoder: Gaussian encoder q(z|x) = N(μ, diag σ²), reparameterization, β = 1.
    case vae
    /// β-VAE: β·KL (default β = 4), or the capacity-controlled γ·|KL − C|.
    case betaVAE = "beta-vae"
    /// VQ-VAE: codebook, straight-through estimator, codebook and commitment losses (or EMA updates).
    case vqVAE = "vq-vae"
    /// Denoising autoencoder: a corrupted input, the clean target.
    case denoising
    /// Sparse autoencoder: an L1 penalty on the code or top-k codes.
    case sparse
    /// Contractive autoencoder: λ·‖∂h/∂x‖²_F.
    case contractive

    /// Whether the model has a Gaussian latent and a KL term.
    public var isVariational: Bool { self == .vae || self == .betaVAE }
}

/// The shape of the encoder and decoder networks.
public enum Architecture: String, Codable, CaseIterable, Sendable {
    /// Fully connected layers of the widths in ``ModelConfig/hidden``.
    case mlp
    /// Strided 4×4 convolutions of the widths in ``ModelConfig/channels`` (each halves the image side), a dense
    /// layer of ``ModelConfig/denseWidth``, and the mirrored transposed convolutions.
    case conv
}

/// What the decoder's output means, and so the reconstruction loss.
public enum Likelihood: String, Codable, CaseIterable, Sendable {
    /// Bernoulli pixels in [0, 1]: binary cross-entropy (computed from logits; the output is σ(logits)).
    case bernoulli
    /// Gaussian with unit variance: squared error, identity output.
    case gaussian

    var loss: ReconstructionLoss { self == .bernoulli ? .bceWithLogits : .mse }
}

/// Where batch normalization goes.
public enum BatchNormPlacement: String, Codable, CaseIterable, Sendable {
    case none
    /// After every hidden layer of the encoder.
    case encoder
    /// In the encoder and the decoder (batch statistics in the decoder can hurt samples; usually leave it out).
    case both
}

/// Vector-quantizer settings (van den Oord et al. 2017).
public struct VQConfig: Codable, Equatable, Sendable {
    /// K, the number of code vectors.
    public var codebookSize: Int = 64
    /// D, the size of one code vector; the latent of ``ModelConfig/latentDim`` is split into latentDim/D vectors.
    public var codeDim: Int = 4
    /// β of the commitment loss β·‖z_e − sg(e)‖².
    public var commitment: Double = 0.25
    /// Update the codebook by exponential moving averages instead of the codebook loss.
    public var ema: Bool = false
    /// EMA decay γ.
    public var decay: Double = 0.99
    /// Laplace smoothing ε of the EMA cluster sizes.
    public var epsilon: Double = 1e-5
    /// Move codes unused for a whole epoch onto encodings of the last batch.
    public var restartDeadCodes: Bool = true

    public init() {}
}

/// How a denoising autoencoder corrupts its input.
public enum CorruptionConfig: Codable, Equatable, Sendable {
    case gaussian(sigma: Double)
    case masking(probability: Double)
    case saltAndPepper(probability: Double)

    /// The primitive's corruption; salt and pepper use the data's range [0, 1].
    var corruption: Corruption {
        switch self {
        case .gaussian(let sigma): return .gaussian(sigma: Float(sigma))
        case .masking(let p): return .masking(probability: Float(p))
        case .saltAndPepper(let p): return .saltAndPepper(probability: Float(p), low: 0, high: 1)
        }
    }

    /// Parses `gaussian:SIGMA`, `masking:P` or `salt-and-pepper:P`.
    public init(parsing text: String) throws {
        let parts = text.lowercased().split(separator: ":").map(String.init)
        guard parts.count == 2, let value = Double(parts[1]), value >= 0 else {
            throw ConfigError.invalid("corruption '\(text)': use gaussian:SIGMA, masking:P or salt-and-pepper:P")
        }
        switch parts[0] {
        case "gaussian": self = .gaussian(sigma: value)
        case "masking" where value <= 1: self = .masking(probability: value)
        case "salt-and-pepper" where value <= 1, "salt-pepper" where value <= 1: self = .saltAndPepper(probability: value)
        default: throw ConfigError.invalid("corruption '\(text)': use gaussian:SIGMA, masking:P (P ≤ 1) or salt-and-pepper:P")
        }
    }
}

/// How a sparse autoencoder makes its codes sparse.
public enum SparsityConfig: Codable, Equatable, Sendable {
    /// ReLU codes with the penalty λ·Σ|z|.
    case l1(lambda: Double)
    /// Keep the k largest code entries of each sample (Makhzani & Frey 2013).
    case topK(k: Int)
}

/// Extras of a sparse autoencoder trained on model activations (a dictionary-learning SAE): the model must be a
/// one-layer ``ModelKind/sparse`` MLP (encoder z = topk(W_e x + b_e) or ReLU, decoder x̂ = W_d z + b_d) with a
/// Gaussian likelihood, so the columns of W_d (n × l) are the dictionary's features.
public struct SAEOptions: Codable, Equatable, Sendable {
    /// Rescale every decoder column to unit norm after each optimizer step, W_d[:, j] ← W_d[:, j]/‖W_d[:, j]‖,
    /// so the code cannot shrink its L1 or top-k magnitude by growing the decoder.
    public var normalizeDecoder = true
    /// After each epoch, re-initialize latents that never fired in it, toward the worst-reconstructed inputs.
    public var resampleDeadLatents = true

    public init() {}
}

/// Everything needed to rebuild a model: stored in a run's `config.json`.
public struct ModelConfig: Codable, Equatable, Sendable {
    public var kind: ModelKind = .vae
    public var architecture: Architecture = .mlp
    /// Per-sample input shape: [D] for vectors, [C, H, W] for images.
    public var inputShape: [Int]
    /// MLP hidden widths, input side first (the decoder mirrors them).
    public var hidden: [Int] = [256, 128]
    /// Convolution widths, input side first.
    public var channels: [Int] = [32, 64]
    /// Width of the dense layer between the convolutions and the latent.
    public var denseWidth: Int = 256
    /// Latent dimension (for VQ-VAE: latentDim/codeDim code vectors of codeDim each).
    public var latentDim: Int = 32
    public var likelihood: Likelihood = .bernoulli
    public var batchNorm: BatchNormPlacement = .none
    /// Weight of the KL term (β-VAE; 1 for a VAE).
    public var beta: Double = 1
    /// Capacity-controlled β-VAE: γ·|KL − C(step)| replaces β·KL.
    public var capacity: CapacitySchedule?
    /// Free bits: a floor λ (nats) on the batch-mean KL of each latent dimension (Kingma et al. 2016).
    public var freeBits: Double?
    public var vq = VQConfig()
    public var corruption: CorruptionConfig = .gaussian(sigma: 0.3)
    public var sparsity: SparsityConfig = .l1(lambda: 1e-3)
    /// λ of the contractive penalty λ·‖∂h/∂x‖²_F.
    public var contractiveWeight: Double = 0.1
    /// Step of the finite-difference Jacobian estimate used by contractive encoders deeper than one layer.
    public var contractiveNoise: Double = 0.05
    /// Sparse autoencoder on activations: decoder normalization and dead-latent resampling (nil: off).
    public var sae: SAEOptions?

    public init(kind: ModelKind, architecture: Architecture = .mlp, inputShape: [Int]) {
        self.kind = kind
        self.architecture = architecture
        self.inputShape = inputShape
        if kind == .betaVAE { beta = 4 }
        if kind == .contractive { hidden = [] }
    }

    /// Features per sample.
    public var inputDimension: Int { inputShape.reduce(1, *) }

    /// Whether the contractive penalty is the exact closed form (one sigmoid layer) or the stochastic estimate.
    public var contractiveIsExact: Bool { kind == .contractive && architecture == .mlp && hidden.isEmpty }

    /// Checks that the options fit together; the message says what would work.
    public func validate() throws {
        guard inputShape.allSatisfy({ $0 > 0 }), !inputShape.isEmpty else {
            throw ConfigError.invalid("input shape \(inputShape) has an empty dimension")
        }
        // sizes a model could allocate: no dimension product may overflow or exceed 2^31 elements per sample
        let limit = 1 << 31
        guard inputShape.count <= 4,
              inputShape.reduce(1, { $0 > limit / max($1, 1) ? limit + 1 : $0 * $1 }) <= limit,
              latentDim <= limit / 1024, hidden.count <= 64, channels.count <= 16,
              (hidden + channels + [denseWidth]).allSatisfy({ $0 <= 1 << 20 }) else {
            throw ConfigError.invalid("model sizes out of range: input \(inputShape), latent \(latentDim), \(hidden.count) hidden and \(channels.count) convolution layers")
        }
        guard latentDim > 0 else { throw ConfigError.invalid("--latent-dim must be positive, got \(latentDim)") }
        guard hidden.allSatisfy({ $0 > 0 }), channels.allSatisfy({ $0 > 0 }), denseWidth > 0 else {
            throw ConfigError.invalid("layer widths must be positive")
        }
        if architecture == .conv {
            guard inputShape.count == 3 else {
                throw ConfigError.invalid("--arch conv needs image data ([C, H, W] samples), got samples of shape \(inputShape): use --arch mlp")
            }
            let factor = 1 << channels.count
            guard !channels.isEmpty, inputShape[1] % factor == 0, inputShape[2] % factor == 0 else {
                throw ConfigError.invalid("--arch conv with \(channels.count) stride-2 layers needs image sides divisible by \(factor), got \(inputShape[1])×\(inputShape[2]): use fewer --channels or --arch mlp")
            }
        }
        if kind == .vqVAE {
            guard vq.codeDim > 0, latentDim % vq.codeDim == 0 else {
                throw ConfigError.invalid("--latent-dim \(latentDim) must be a multiple of --code-dim \(vq.codeDim)")
            }
            guard vq.codebookSize > 1 else { throw ConfigError.invalid("--codebook-size must be at least 2") }
            guard vq.decay > 0, vq.decay < 1 else { throw ConfigError.invalid("--ema-decay must lie in (0, 1)") }
        }
        if kind == .sparse, case .topK(let k) = sparsity {
            guard k > 0, k <= latentDim else { throw ConfigError.invalid("--top-k must lie in 1...\(latentDim), got \(k)") }
        }
        if sae != nil {
            guard kind == .sparse, architecture == .mlp, hidden.isEmpty, likelihood == .gaussian else {
                throw ConfigError.invalid("--sae needs --model sparse with one linear layer each way (--arch mlp --hidden none) and --likelihood gaussian")
            }
        }
        guard beta >= 0 else { throw ConfigError.invalid("--beta must be ≥ 0") }
        if let freeBits, freeBits < 0 { throw ConfigError.invalid("--free-bits must be ≥ 0") }
    }
}

/// Options that do not fit together, or values out of range (a usage error, exit code 2 in the CLI).
public enum ConfigError: Error, CustomStringConvertible, Equatable {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let message): return message
        }
    }
}
