import ArgumentParser
import AutoencoderKit
import Foundation

/// The model, data and training options of `autoencoder train`, shared with `autoencoder sweep` (all but
/// `--latent-dim`, which `train` declares itself and `sweep` replaces with `--latent-dims`).
struct TrainOptions: ParsableArguments {
    @Option(help: .choice("Model kind (default vae; ae with --normal-label).", of: ModelKind.self),
            transform: ModelKind.choice(of: "--model")) var model: ModelKind?
    @Option(help: .choice("Network: fully connected, or convolutions (image data).", of: Architecture.self, default: .mlp),
            transform: Architecture.choice(of: "--arch")) var arch: Architecture = .mlp
    @Option(help: "digits, breast-cancer, shapes[:COUNT|all][:SxRxXxY] (generated sprites), or a .csv, .npy, .idx, .gz or -ubyte file.") var data: String = "digits"
    @Option(help: "CSV column holding labels (kept out of the features).") var labelColumn: String?
    @Option(help: "CSV columns to use as features, comma-separated.") var featureColumns: String?
    @Option(help: .choice("Feature scaling fitted on the training split (default: none for images; minmax for tables, zscore with --normal-label).", of: Normalizer.Method.self),
            transform: Normalizer.Method.choice(of: "--normalize")) var normalize: Normalizer.Method?
    @Option(help: "Fraction of a file's samples held out for testing (digits ship their own split; default 0.2, 0 with --detector).") var testFraction: Double?
    @Option(help: "Fraction of the training samples held out for validation.") var validation: Double = 0.1
    @Option(help: "MLP hidden widths, input side first, or none (default for tables and --normal-label: 8 and 4 times the code, at most 256,128; else 256,128).",
            transform: TrainOptions.widths(of: "--hidden")) var hidden: [Int]?
    @Option(help: "Convolution widths, input side first. (default: 32,64)", transform: TrainOptions.widths(of: "--channels")) var channels: [Int] = [32, 64]
    @Option(help: "Dense width between convolutions and latent.") var denseWidth: Int = 256
    @Option(help: .choice("Reconstruction term: bernoulli is BCE (data in [0,1]), gaussian is MSE, auto is bernoulli when every feature lies in [0,1].", of: LikelihoodChoice.self, default: .auto),
            transform: LikelihoodChoice.choice(of: "--likelihood")) var likelihood: LikelihoodChoice = .auto
    @Option(help: .choice("Batch normalization after the hidden layers of the encoder, or of both networks.", of: BatchNormPlacement.self, default: BatchNormPlacement.none),
            transform: BatchNormPlacement.choice(of: "--batch-norm")) var batchNorm: BatchNormPlacement = .none
    @Option(help: "Epochs (default for anomaly detection: up to 300, stopped after 10 without a better validation loss; else 60 for digits, 20 otherwise).") var epochs: Int?
    @Option(help: "Samples per step (default 32 for digits and for images with --normal-label, else 64; at most the training samples).") var batchSize: Int?
    @Option(help: .choice("Optimizer.", of: OptimizerKind.self, default: .adam), transform: OptimizerKind.choice(of: "--optimizer"))
    var optimizer: OptimizerKind = .adam
    @Option(help: "Learning rate (default 1e-3; with --sae 2e-4·√(16384 / latent-dim)·√(batch-size / 64)).") var lr: Double?
    @Option(help: "Weight decay (L2 for adam/sgd, decoupled for adamw).") var weightDecay: Double = 0
    @Option(help: "SGD momentum.") var momentum: Double = 0.9
    @Option(help: "constant, step:EVERY:GAMMA or cosine[:MIN]. (default: constant)", transform: LearningRateSchedule.init(parsing:))
    var lrSchedule: LearningRateSchedule = .constant
    @Option(help: "Clip the global gradient norm.") var clip: Double?
    @Option(help: "KL weight β (default 1; 4 for beta-vae).") var beta: Double?
    @Option(help: "none, linear:STEPS or cyclical:CYCLES:RATIO.") var klSchedule: String = "none"
    @Option(help: "Free bits: floor in nats on each latent dimension's KL (default \(TrainOptions.vaeFreeBits) for vae without --capacity, else none; 0 turns it off).") var freeBits: Double?
    @Option(help: "Capacity-controlled β-VAE: CMAX:STEPS:GAMMA.", transform: TrainOptions.capacity) var capacity: CapacitySchedule?
    @Option(help: "VQ-VAE codebook size K.") var codebookSize: Int = 64
    @Option(help: "VQ-VAE code vector size D (latent-dim must be a multiple).") var codeDim: Int = 4
    @Option(help: "VQ-VAE commitment weight β.") var commitment: Double = 0.25
    @Flag(help: "VQ-VAE: update the codebook by exponential moving averages.") var ema = false
    @Option(help: "VQ-VAE EMA decay.") var emaDecay: Double = 0.99
    @Flag(help: "VQ-VAE: keep dead codes instead of restarting them.") var keepDeadCodes = false
    @Option(help: "Denoising corruption: gaussian:SIGMA, masking:P or salt-and-pepper:P. (default: gaussian:0.3)", transform: CorruptionConfig.init(parsing:))
    var corruption: CorruptionConfig = .gaussian(sigma: 0.3)
    @Option(help: "Sparse: L1 weight λ on the code.") var l1: Double?
    @Option(help: "Sparse: keep the k largest code entries.") var topK: Int?
    @Option(help: "Contractive weight λ.") var contractiveWeight: Double = 0.1
    @Option(help: "Stop after this many epochs without a better validation loss.") var earlyStopping: Int?
    @Option(help: "Checkpoint every N epochs (0: none).") var checkpointEvery: Int = 1
    @Option(help: .choice("On a NaN or infinite loss: stop, or skip that batch's update.", of: NonFinitePolicy.self, default: .stop),
            transform: NonFinitePolicy.choice(of: "--on-nan")) var onNan: NonFinitePolicy = .stop
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Flag(help: "Anomaly detection on unlabelled rows: the detection recipe (below) trained on every row but a validation share; score new rows with `autoencoder detect`.") var detector = false
    @Option(help: "Anomaly detection: the expected fraction of anomalies among the training rows (0 < C < 0.5, as PyOD's contamination); detect then flags scores above the (1 − C) quantile of the training rows' scores. Implies --detector.") var contamination: Double?
    @Option(help: "Anomaly detection: train on samples of this label only; the test split holds every other sample.") var normalLabel: Int32?
    @Option(help: "With --normal-label: how many normal samples to train on (default: 1 − test-fraction of them).") var normalCount: Int?
    @Option(help: "Anomaly detection: train this many models from seeds S, S+1, …; detect averages their standardized scores (default \(Self.detectionEnsemble) with --normal-label, else 1).") var ensemble: Int?
    @Flag(help: "Sparse autoencoder on activations (Gao et al. 2024): top-k over ReLU, decoder started as the encoder's transpose with unit-norm columns, the AuxK loss, explained variance.") var sae = false
    @Option(help: "--sae: weight of the auxiliary loss on dead latents (0 turns it off).") var auxkCoefficient: Double = AuxKOptions().coefficient
    @Option(help: "--sae: training samples without firing after which a latent counts as dead (default 100·latent-dim/top-k, at most 10 million).") var deadAfter: Int?
    @Flag(help: "--sae: after each epoch, re-initialize the latents that never fired in it (Bricken et al. 2023).") var resampleDead = false
    @OptionGroup var streaming: StreamOptions

    /// Whether the run trains an anomaly detector: `--detector`, `--contamination` or `--normal-label`.
    var detecting: Bool { detector || contamination != nil || normalLabel != nil }

    /// The model kind asked for, or the default: `ae` for anomaly detection, else `vae`.
    var modelKind: ModelKind { model ?? (detecting ? .ae : .vae) }

    /// The test share asked for, or the default: none for a detector fitted on unlabelled rows (every row trains
    /// but the validation share, which sets the threshold), else 0.2.
    var resolvedTestFraction: Double { testFraction ?? (detecting && normalLabel == nil ? 0 : 0.2) }

    /// The anomaly-detection split of `--normal-label`/`--normal-count`.
    var normalSplit: NormalSplit? { normalLabel.map { NormalSplit(label: $0, count: normalCount) } }

    /// The checks that need only the options; the data's checks come in ``newRun(device:out:latentDim:)``.
    func validate() throws {
        if let ensemble, ensemble < 1 { throw ValidationError("--ensemble must be at least 1") }
        if normalLabel == nil && normalCount != nil { throw ValidationError("--normal-count needs --normal-label") }
        if let normalCount, normalCount <= 0 { throw ValidationError("--normal-count must be positive") }
        if let topK, l1 != nil { throw ValidationError("--top-k \(topK) and --l1 exclude each other") }
        if let contamination {
            do { _ = try ThresholdRule.contamination(contamination) } catch { throw ValidationError("\(error)") }
        }
        if contamination != nil && normalLabel != nil {
            throw ValidationError("--contamination is for unlabelled training rows; --normal-label trains on normal rows only")
        }
    }

    /// Builds a new run from the options: loads and splits the data, checks the model and training settings,
    /// creates the run folder (`out`, else a fresh `runs/MODEL-DATA`) and writes its `config.json`.
    /// `latentDim` is `train`'s `--latent-dim` or one of the sweep's sizes (nil: the default for the data).
    /// Of several `ranks`, rank 0 alone creates the folder, after checking that the run can be split over them.
    func newRun(device: any Device, out: String?, latentDim: Int?,
                ranks: TrainingRanks = TrainingRanks(communicator: SingleProcess())) throws -> (RunDirectory, RunConfig, RunData) {
        // anomaly detection (--normal-label): an ensemble of plain AEs sized to the input, tables z-scored
        // (README, "Anomaly detection", for the measurements behind these defaults)
        let kind = modelKind
        let testFraction = resolvedTestFraction
        let members = ensemble ?? (detecting ? Self.detectionEnsemble : 1)
        let csv = CSVOptions(labelColumn: labelColumn, featureColumns: featureColumns.map { $0.split(separator: ",").map(String.init) })
        let normalization = normalize ?? (sae ? Normalizer.Method.none : nil)
        let runData: RunData
        if let layout = try streaming.layout(for: data, normalization: normalization, device: device, announce: ranks.ownsFiles) {
            if detecting || members > 1 {
                throw ValidationError("streamed data (--stream, or data over the memory budget) does not combine with anomaly detection (--detector, --contamination, --normal-label) or --ensemble, which train on data loaded whole (--no-stream)")
            }
            runData = .streamed(try StreamedSplits.load(source: data, normalization: normalization, testFraction: testFraction,
                                                        validationFraction: validation, seed: seed, layout: layout))
        } else {
            runData = .resident(try PreparedData.load(source: data, csv: csv, normalization: normalization, testFraction: testFraction,
                                                      validationFraction: validation, seed: seed, normalSplit: normalSplit,
                                                      tableNormalization: detecting ? .zscore : .minmax))
        }
        let shape = runData.description.shape
        var config = ModelConfig(kind: kind, architecture: arch, inputShape: shape)
        let isTable = shape.count == 1
        // sparse autoencoders on activations keep their overcomplete default code
        let sizeToInput = (isTable && !sae) || detecting
        let sized = DetectionRecipe.network(forInput: shape.reduce(1, *))
        if let hidden { config.hidden = hidden } else if sizeToInput { config.hidden = sized.hidden }
        config.channels = channels
        config.denseWidth = denseWidth
        if let latentDim {
            config.latentDim = latentDim
        } else if data == "digits" && !detecting {
            config.latentDim = 16
        } else if sizeToInput {
            config.latentDim = sized.latent
        }
        config.likelihood = try likelihood.resolved(data: runData)
        config.batchNorm = batchNorm
        if let beta { config.beta = beta }
        config.capacity = capacity
        config.freeBits = freeBits ?? (kind == .vae && config.capacity == nil ? Self.vaeFreeBits : nil)
        config.vq.codebookSize = codebookSize
        config.vq.codeDim = codeDim
        config.vq.commitment = commitment
        config.vq.ema = ema
        config.vq.decay = emaDecay
        config.vq.restartDeadCodes = !keepDeadCodes
        config.corruption = corruption
        if let topK { config.sparsity = .topK(k: topK) } else if let l1 { config.sparsity = .l1(lambda: l1) }
        config.contractiveWeight = contractiveWeight
        if sae {
            var options = SAEOptions()
            options.resampleDeadLatents = resampleDead
            if auxkCoefficient > 0 {
                options.auxK?.coefficient = auxkCoefficient
                options.auxK?.deadAfter = deadAfter
            } else {
                options.auxK = nil
            }
            config.sae = options
            if self.hidden == nil { config.hidden = [] }
            if likelihood.fixed == nil { config.likelihood = .gaussian }
        }
        try config.validate()

        var training = TrainingConfig()
        let recipe = detecting ? DetectionRecipe(isTable: isTable) : nil
        // the default batch follows the data: a table of 30 rows trains in batches of its 27 training rows
        let batchSize = self.batchSize ?? min(recipe?.batchSize ?? (data == "digits" ? 32 : 64), max(runData.trainingCount, 1))
        training.epochs = epochs ?? recipe?.epochs ?? (data == "digits" ? 60 : 20)
        training.batchSize = batchSize
        training.optimizer = optimizer
        training.learningRate = lr ?? (sae ? SAEOptions.learningRate(latentDim: config.latentDim, batchSize: batchSize) : 1e-3)
        training.weightDecay = weightDecay
        training.momentum = momentum
        training.learningRateSchedule = lrSchedule
        training.gradientClip = clip
        training.validationFraction = validation
        training.earlyStoppingPatience = earlyStopping ?? (epochs == nil ? recipe?.earlyStopping : nil)
        training.checkpointEvery = checkpointEvery
        training.seed = seed
        training.onNonFinite = onNan
        training.epochOrder = runData.description.stream?.epochOrder
        try training.validate(trainingSamples: runData.trainingCount)
        training.klSchedule = try KLSchedule(parsing: klSchedule)
        if ranks.isParallel {
            _ = try ranks.localBatch(batchSize)
            if members > 1 {
                throw ParallelRunError.unsupported("an ensemble of \(members) models (--ensemble; \(Self.detectionEnsemble) by default with --normal-label)",
                                                   ranks: ranks.communicator.size)
            }
        }

        let name = "\(kind.rawValue)-\(URL(fileURLWithPath: data).deletingPathExtension().lastPathComponent)"
        let directory = out.map { RunDirectory(url: URL(fileURLWithPath: $0)) }
            ?? RunDirectory.unused(base: name, in: URL(fileURLWithPath: "runs"))
        var runConfig = RunConfig(model: config, training: training, data: runData.description, device: device.info.selector,
                                  precision: device.matmulPrecision, ensemble: members > 1 ? members : nil)
        runConfig.contamination = contamination
        if ranks.ownsFiles {
            try directory.create()
            try directory.write(config: runConfig)
        }
        return (directory, runConfig, runData)
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

    /// The `transform:` of a widths option (`--hidden`, `--channels`, `--latent-dims`): positive comma-separated
    /// integers, or an empty list for `none` or nothing.
    static func widths(of option: String) -> @Sendable (String) throws -> [Int] {
        { text in
            if text.isEmpty || text == "none" { return [] }
            let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard values.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw ConfigError.invalid("\(option) takes positive comma-separated widths, e.g. 256,128; got '\(text)'")
            }
            return values.compactMap { $0 }
        }
    }

    /// Parses `--capacity CMAX:STEPS:GAMMA`.
    @Sendable static func capacity(_ text: String) throws -> CapacitySchedule {
        let parts = text.split(separator: ":").compactMap { Double($0) }
        guard parts.count == 3, parts[0] >= 0, parts[1] >= 0, parts[2] > 0 else {
            throw ConfigError.invalid("--capacity takes CMAX:STEPS:GAMMA, e.g. 25:10000:1000")
        }
        return CapacitySchedule(maximum: parts[0], steps: Int(parts[1]), gamma: parts[2])
    }
}
