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
/// one-layer ``ModelKind/sparse`` MLP (encoder z = topk(ReLU(W_e x + b_e)), decoder x̂ = W_d z + b_d) with a
/// Gaussian likelihood, so the columns of W_d (n × l) are the dictionary's features.
///
/// ``init()`` is the recipe of Gao et al. (2024, "Scaling and evaluating sparse autoencoders"), as EleutherAI's
/// sparsify trains it: codes chosen among rectified pre-activations, a decoder started as the encoder's transpose
/// with the data's mean as its bias, unit-norm decoder columns whose gradient loses its component along the column,
/// and the auxiliary loss that gives dead latents gradient. A configuration written before a field existed reads
/// that field as it then behaved (off).
public struct SAEOptions: Codable, Equatable, Sendable {
    /// Rescale every decoder column to unit norm after each optimizer step, W_d[:, j] ← W_d[:, j]/‖W_d[:, j]‖,
    /// so the code cannot shrink its L1 or top-k magnitude by growing the decoder.
    public var normalizeDecoder = true
    /// Before each step, remove from each decoder column's gradient its component along the column,
    /// g_j ← g_j − (g_j·w_j) w_j: the part the renormalization would undo.
    public var projectDecoderGradient = true
    /// Top-k codes keep the k largest of ReLU(W_e x + b_e), so no code entry is negative.
    public var rectify = true
    /// Start W_d as W_eᵀ with unit columns, b_d at the mean of up to ``SparseDictionary/candidateCount`` training
    /// rows, and b_e = −W_e b_d, so that the encoder first sees centred inputs.
    public var tiedInitialization = true
    /// The auxiliary top-k loss (AuxK) on latents dead for this many training samples, nil for none.
    public var auxK: AuxKOptions? = AuxKOptions()
    /// After each epoch, re-initialize latents that never fired in it, toward the worst-reconstructed inputs.
    public var resampleDeadLatents = false

    public init() {}

    /// The Adam learning rate for `latentDim` latents at batches of `batchSize`: 2·10⁻⁴·√(2¹⁴ / latentDim) — Gao et
    /// al.'s (2024) rate, smaller for wider dictionaries — at a batch of 64, scaled by √(batchSize / 64), the
    /// square-root rule for Adam (Malladi et al. 2022). Measured: on the README's benchmark (3,072 latents, batch
    /// 4,096, 219 steps) the unscaled 4.6·10⁻⁴ reached a held-out FVU of 0.200, 2·10⁻³ 0.135, 5·10⁻³ 0.123 and
    /// 1.15·10⁻² left 24% of the latents dead; on 18,000 synthetic activations (1,024 latents, batch 64, 20 epochs)
    /// 8·10⁻³ left 29% dead on held-out rows and 8·10⁻⁴ none.
    public static func learningRate(latentDim: Int, batchSize: Int) -> Double {
        2e-4 * (16384 / Double(max(latentDim, 1))).squareRoot() * (Double(max(batchSize, 1)) / 64).squareRoot()
    }

    private enum CodingKeys: String, CodingKey {
        case normalizeDecoder, projectDecoderGradient, rectify, tiedInitialization, auxK, resampleDeadLatents
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        normalizeDecoder = try c.decodeIfPresent(Bool.self, forKey: .normalizeDecoder) ?? true
        projectDecoderGradient = try c.decodeIfPresent(Bool.self, forKey: .projectDecoderGradient) ?? false
        rectify = try c.decodeIfPresent(Bool.self, forKey: .rectify) ?? false
        tiedInitialization = try c.decodeIfPresent(Bool.self, forKey: .tiedInitialization) ?? false
        auxK = try c.decodeIfPresent(AuxKOptions.self, forKey: .auxK)
        resampleDeadLatents = try c.decodeIfPresent(Bool.self, forKey: .resampleDeadLatents) ?? true
    }
}

/// The auxiliary loss of Gao et al. (2024): the `k` largest pre-activations among the dead latents (those that
/// have not fired for ``deadAfter`` training samples) reconstruct the main code's residual e = x − x̂, and
/// ``coefficient``·‖e − W_d z_aux‖² joins the loss, so a dead latent gets gradient toward what the live ones miss.
public struct AuxKOptions: Codable, Equatable, Sendable {
    /// Dead latents in the auxiliary code (nil: half the input width, the paper's k_aux = d/2).
    public var k: Int?
    /// Weight of the auxiliary term relative to the reconstruction (1/32 in the paper).
    public var coefficient = 1.0 / 32
    /// Training samples without firing after which a latent counts as dead (nil: ``deadAfter(latentDim:k:)``).
    public var deadAfter: Int?

    public init() {}

    /// The dead count of ``deadAfter`` for `latentDim` latents of which `k` fire per sample: 100 times the mean
    /// interval between a latent's firings, l/k samples, so that only a latent firing at under 1% of the mean
    /// rate counts (a latent at the mean rate goes that long without firing with probability e⁻¹⁰⁰), and at most
    /// the 10 million tokens of Gao et al. and sparsify. It follows the dictionary's shape, not the data's size.
    public func deadAfter(latentDim: Int, k: Int) -> Int {
        deadAfter ?? min(10_000_000, 100 * (latentDim + max(k, 1) - 1) / max(k, 1))
    }
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
        if let sae {
            guard kind == .sparse, architecture == .mlp, hidden.isEmpty, likelihood == .gaussian else {
                throw ConfigError.invalid("--sae needs --model sparse with one linear layer each way (--arch mlp --hidden none) and --likelihood gaussian")
            }
            if let auxK = sae.auxK {
                guard auxK.coefficient > 0, auxK.coefficient.isFinite else {
                    throw ConfigError.invalid("--auxk-coefficient must be positive (0 turns the auxiliary loss off), got \(auxK.coefficient)")
                }
                if let deadAfter = auxK.deadAfter, deadAfter <= 0 {
                    throw ConfigError.invalid("--dead-after must be positive, got \(deadAfter)")
                }
                if let k = auxK.k, k <= 0 { throw ConfigError.invalid("the auxiliary code's k must be positive, got \(k)") }
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
