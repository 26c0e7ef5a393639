import ArgumentParser
import AutoencoderKit
import Foundation

/// The model, data and training options of `autoencoder train`, shared with `autoencoder sweep` (all but
/// `--latent-dim`, which `train` declares itself and `sweep` replaces with `--latent-dims`).
struct TrainOptions: ParsableArguments {
    @Option(help: "ae, vae, beta-vae, vq-vae, denoising, sparse or contractive (default vae; ae with --normal-label).") var model: String?
    @Option(help: "mlp or conv.") var arch: String = "mlp"
    @Option(help: "digits, breast-cancer, shapes[:COUNT|all][:SxRxXxY] (generated sprites), or a .csv, .npy, .idx, .gz or -ubyte file.") var data: String = "digits"
    @Option(help: "CSV column holding labels (kept out of the features).") var labelColumn: String?
    @Option(help: "CSV columns to use as features, comma-separated.") var featureColumns: String?
    @Option(help: "none, minmax, zscore (default: none for images; minmax for tables, zscore with --normal-label).") var normalize: String?
    @Option(help: "Fraction of a file's samples held out for testing (digits ship their own split).") var testFraction: Double = 0.2
    @Option(help: "Fraction of the training samples held out for validation.") var validation: Double = 0.1
    @Option(help: "MLP hidden widths, input side first (default for tables and --normal-label: 8 and 4 times the code, at most 256,128; else 256,128).") var hidden: String?
    @Option(help: "Convolution widths, input side first.") var channels: String = "32,64"
    @Option(help: "Dense width between convolutions and latent.") var denseWidth: Int = 256
    @Option(help: "bernoulli (BCE, data in [0,1]), gaussian (MSE), or auto.") var likelihood: String = "auto"
    @Option(help: "Batch normalization: none, encoder or both.") var batchNorm: String = "none"
    @Option(help: "Epochs (default with --normal-label: 10 for tables, up to 300 for images with early stopping after 10; else 60 for digits, 20 otherwise).") var epochs: Int?
    @Option(help: "Samples per step (default 32 for digits and for images with --normal-label, else 64).") var batchSize: Int?
    @Option(help: "adam, adamw or sgd.") var optimizer: String = "adam"
    @Option(help: "Learning rate.") var lr: Double = 1e-3
    @Option(help: "Weight decay (L2 for adam/sgd, decoupled for adamw).") var weightDecay: Double = 0
    @Option(help: "SGD momentum.") var momentum: Double = 0.9
    @Option(help: "constant, step:EVERY:GAMMA or cosine[:MIN].") var lrSchedule: String = "constant"
    @Option(help: "Clip the global gradient norm.") var clip: Double?
    @Option(help: "KL weight β (default 1; 4 for beta-vae).") var beta: Double?
    @Option(help: "none, linear:STEPS or cyclical:CYCLES:RATIO.") var klSchedule: String = "none"
    @Option(help: "Free bits: floor in nats on each latent dimension's KL (default \(TrainOptions.vaeFreeBits) for vae without --capacity, else none; 0 turns it off).") var freeBits: Double?
    @Option(help: "Capacity-controlled β-VAE: CMAX:STEPS:GAMMA.") var capacity: String?
    @Option(help: "VQ-VAE codebook size K.") var codebookSize: Int = 64
    @Option(help: "VQ-VAE code vector size D (latent-dim must be a multiple).") var codeDim: Int = 4
    @Option(help: "VQ-VAE commitment weight β.") var commitment: Double = 0.25
    @Flag(help: "VQ-VAE: update the codebook by exponential moving averages.") var ema = false
    @Option(help: "VQ-VAE EMA decay.") var emaDecay: Double = 0.99
    @Flag(help: "VQ-VAE: keep dead codes instead of restarting them.") var keepDeadCodes = false
    @Option(help: "Denoising corruption: gaussian:SIGMA, masking:P or salt-and-pepper:P.") var corruption: String = "gaussian:0.3"
    @Option(help: "Sparse: L1 weight λ on the code.") var l1: Double?
    @Option(help: "Sparse: keep the k largest code entries.") var topK: Int?
    @Option(help: "Contractive weight λ.") var contractiveWeight: Double = 0.1
    @Option(help: "Stop after this many epochs without a better validation loss.") var earlyStopping: Int?
    @Option(help: "Checkpoint every N epochs (0: none).") var checkpointEvery: Int = 1
    @Option(help: "On a NaN or infinite loss: stop or skip.") var onNan: String = "stop"
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Anomaly detection: train on samples of this label only; the test split holds every other sample.") var normalLabel: Int32?
    @Option(help: "With --normal-label: how many normal samples to train on (default: 1 − test-fraction of them).") var normalCount: Int?
    @Option(help: "Anomaly detection: train this many models from seeds S, S+1, …; detect averages their standardized scores (default \(Self.detectionEnsemble) with --normal-label, else 1).") var ensemble: Int?
    @Flag(help: "Sparse autoencoder on activations: unit-norm decoder columns after each step, dead-latent resampling, explained variance.") var sae = false

    /// The model kind asked for, or the default: `ae` for anomaly detection (`--normal-label`), else `vae`.
    var modelName: String { model ?? (normalLabel != nil ? "ae" : "vae") }

    /// The anomaly-detection split of `--normal-label`/`--normal-count`.
    func normalSplit() throws -> NormalSplit? {
        guard let normalLabel else {
            if normalCount != nil { throw ConfigError.invalid("--normal-count needs --normal-label") }
            return nil
        }
        if let normalCount, normalCount <= 0 { throw ConfigError.invalid("--normal-count must be positive") }
        return NormalSplit(label: normalLabel, count: normalCount)
    }

    /// Builds a new run from the options: loads and splits the data, checks the model and training settings,
    /// creates the run folder (`out`, else a fresh `runs/MODEL-DATA`) and writes its `config.json`.
    /// `latentDim` is `train`'s `--latent-dim` or one of the sweep's sizes (nil: the default for the data).
    func newRun(device: any Device, out: String?, latentDim: Int?) throws -> (RunDirectory, RunConfig, PreparedData) {
        // anomaly detection (--normal-label): an ensemble of plain AEs sized to the input, tables z-scored
        // (README, "Anomaly detection", for the measurements behind these defaults)
        let detecting = normalLabel != nil
        let model = modelName
        let members = ensemble ?? (detecting ? Self.detectionEnsemble : 1)
        guard members >= 1 else { throw ConfigError.invalid("--ensemble must be at least 1") }
        guard let kind = ModelKind(rawValue: model) else {
            throw ConfigError.invalid("unknown --model '\(model)': use \(ModelKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let architecture = Architecture(rawValue: arch) else { throw ConfigError.invalid("unknown --arch '\(arch)': use mlp or conv") }
        let normalization = try normalize.map { name -> Normalizer.Method in
            guard let method = Normalizer.Method(rawValue: name) else {
                throw ConfigError.invalid("unknown --normalize '\(name)': use none, minmax or zscore")
            }
            return method
        }
        let csv = CSVOptions(labelColumn: labelColumn, featureColumns: featureColumns.map { $0.split(separator: ",").map(String.init) })
        let prepared = try PreparedData.load(source: data, csv: csv, normalization: normalization ?? (sae ? Normalizer.Method.none : nil), testFraction: testFraction,
                                             validationFraction: validation, seed: seed, normalSplit: try normalSplit(),
                                             tableNormalization: detecting ? .zscore : .minmax)
        var config = ModelConfig(kind: kind, architecture: architecture, inputShape: prepared.train.shape)
        let isTable = prepared.train.shape.count == 1
        // sparse autoencoders on activations keep their overcomplete default code
        let sizeToInput = (isTable && !sae) || detecting
        let sized = Self.sizedToInput(prepared.train.dimension)
        if let hidden { config.hidden = try Self.widths(hidden, option: "--hidden") } else if sizeToInput { config.hidden = sized.hidden }
        config.channels = try Self.widths(channels, option: "--channels")
        config.denseWidth = denseWidth
        if let latentDim {
            config.latentDim = latentDim
        } else if data == "digits" && !detecting {
            config.latentDim = 16
        } else if sizeToInput {
            config.latentDim = sized.latent
        }
        switch likelihood {
        case "auto":
            config.likelihood = prepared.train.features.allSatisfy { $0 >= 0 && $0 <= 1 } ? .bernoulli : .gaussian
        default:
            guard let value = Likelihood(rawValue: likelihood) else {
                throw ConfigError.invalid("unknown --likelihood '\(likelihood)': use bernoulli, gaussian or auto")
            }
            config.likelihood = value
        }
        guard let placement = BatchNormPlacement(rawValue: batchNorm) else {
            throw ConfigError.invalid("unknown --batch-norm '\(batchNorm)': use none, encoder or both")
        }
        config.batchNorm = placement
        if let beta { config.beta = beta }
        if let capacity {
            let parts = capacity.split(separator: ":").compactMap { Double($0) }
            guard parts.count == 3, parts[0] >= 0, parts[1] >= 0, parts[2] > 0 else {
                throw ConfigError.invalid("--capacity takes CMAX:STEPS:GAMMA, e.g. 25:10000:1000")
            }
            config.capacity = CapacitySchedule(maximum: parts[0], steps: Int(parts[1]), gamma: parts[2])
        }
        config.freeBits = freeBits ?? (kind == .vae && config.capacity == nil ? Self.vaeFreeBits : nil)
        config.vq.codebookSize = codebookSize
        config.vq.codeDim = codeDim
        config.vq.commitment = commitment
        config.vq.ema = ema
        config.vq.decay = emaDecay
        config.vq.restartDeadCodes = !keepDeadCodes
        config.corruption = try CorruptionConfig(parsing: corruption)
        if let topK, l1 != nil { throw ConfigError.invalid("--top-k \(topK) and --l1 exclude each other") }
        if let topK { config.sparsity = .topK(k: topK) } else if let l1 { config.sparsity = .l1(lambda: l1) }
        config.contractiveWeight = contractiveWeight
        if sae {
            config.sae = SAEOptions()
            if self.hidden == nil { config.hidden = [] }
            if likelihood == "auto" { config.likelihood = .gaussian }
        }
        try config.validate()

        var training = TrainingConfig()
        let recipe = detecting ? DetectionRecipe(isTable: isTable) : nil
        let batchSize = self.batchSize ?? recipe?.batchSize ?? (data == "digits" ? 32 : 64)
        training.epochs = epochs ?? recipe?.epochs ?? (data == "digits" ? 60 : 20)
        training.batchSize = batchSize
        guard let optimizerKind = OptimizerKind(rawValue: optimizer) else {
            throw ConfigError.invalid("unknown --optimizer '\(optimizer)': use adam, adamw or sgd")
        }
        training.optimizer = optimizerKind
        training.learningRate = lr
        training.weightDecay = weightDecay
        training.momentum = momentum
        training.learningRateSchedule = try LearningRateSchedule(parsing: lrSchedule)
        training.gradientClip = clip
        training.validationFraction = validation
        training.earlyStoppingPatience = earlyStopping ?? (epochs == nil ? recipe?.earlyStopping : nil)
        training.checkpointEvery = checkpointEvery
        training.seed = seed
        guard let policy = NonFinitePolicy(rawValue: onNan) else { throw ConfigError.invalid("--on-nan takes stop or skip") }
        training.onNonFinite = policy
        try training.validate(trainingSamples: prepared.train.count)
        training.klSchedule = try KLSchedule(parsing: klSchedule, totalSteps: training.epochs * (prepared.train.count / batchSize))

        let name = "\(kind.rawValue)-\(URL(fileURLWithPath: data).deletingPathExtension().lastPathComponent)"
        let directory = out.map { RunDirectory(url: URL(fileURLWithPath: $0)) }
            ?? RunDirectory.unused(base: name, in: URL(fileURLWithPath: "runs"))
        try directory.create()
        let runConfig = RunConfig(model: config, training: training, data: prepared.description, device: device.info.selector,
                                  precision: device.matmulPrecision, ensemble: members > 1 ? members : nil)
        try directory.write(config: runConfig)
        return (directory, runConfig, prepared)
    }

    /// The free-bits floor λ (nats per latent dimension) a `vae` trains with unless `--free-bits` or `--capacity`
    /// is given. Without it the default run's KL pressure switches off most latent dimensions (on the bundled
    /// digits 12 of 16 carry KL < 0.01 nats after 60 epochs; the conv VAE of the README, 32 of 32). λ = 0.03 kept
    /// every dimension above the collapse threshold and active on three seeds of both runs, and the mean test
    /// ELBO was no worse (24.21 against 24.22 nats, conv 26.86 against 26.99); it costs at most λ nats per
    /// dimension that the data does not use, and such a dimension carries about λ. (λ = 0.02 still let the conv
    /// run collapse on two of three seeds; 0.05 cost 0.13 nats on the MLP; a linear KL warm-up over half the run
    /// did not stop the collapse.)
    static let vaeFreeBits = 0.03

    /// Models in an anomaly-detection run's ensemble unless `--ensemble` says otherwise.
    static let detectionEnsemble = DetectionRecipe.ensemble

    /// The MLP sized to an input of `dimension` features, for tables and anomaly detection: the code a quarter
    /// of the input (2…32 wide) and two hidden layers of 8 and 4 times the code (at most 256 and 128), so the
    /// network narrows from the input to the code (30 features: 64, 32, code 8; 784: 256, 128, code 32).
    static func sizedToInput(_ dimension: Int) -> (hidden: [Int], latent: Int) {
        let latent = min(max(Int((Double(dimension) / 4).rounded()), 2), 32)
        return ([min(8 * latent, 256), min(4 * latent, 128)], latent)
    }

    static func widths(_ text: String, option: String) throws -> [Int] {
        if text.isEmpty || text == "none" { return [] }
        let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard values.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ConfigError.invalid("\(option) takes positive comma-separated widths, e.g. 256,128; got '\(text)'")
        }
        return values.compactMap { $0 }
    }
}
