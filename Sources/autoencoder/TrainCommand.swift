import ArgumentParser
import AutoencoderKit
import Foundation

/// `autoencoder train`: trains a model and writes a run folder.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an autoencoder; with no options, a VAE on the bundled digits.",
        discussion: """
        Writes DIR/config.json, DIR/model.safetensors (PyTorch names and shapes), DIR/metrics.csv and \
        DIR/checkpoints/. --resume DIR continues a run exactly where its last checkpoint left it.
        """)

    @Option(help: "ae, vae, beta-vae, vq-vae, denoising, sparse or contractive.") var model: String = "vae"
    @Option(help: "mlp or conv.") var arch: String = "mlp"
    @Option(help: "digits, breast-cancer, shapes[:COUNT|all][:SxRxXxY] (generated sprites), or a .csv, .npy, .idx, .gz or -ubyte file.") var data: String = "digits"
    @Option(help: "CSV column holding labels (kept out of the features).") var labelColumn: String?
    @Option(help: "CSV columns to use as features, comma-separated.") var featureColumns: String?
    @Option(help: "none, minmax, zscore (default: none for images, minmax for tables).") var normalize: String?
    @Option(help: "Fraction of a file's samples held out for testing (digits ship their own split).") var testFraction: Double = 0.2
    @Option(help: "Fraction of the training samples held out for validation.") var validation: Double = 0.1
    @Option(help: "MLP hidden widths, input side first.") var hidden: String?
    @Option(help: "Convolution widths, input side first.") var channels: String = "32,64"
    @Option(help: "Dense width between convolutions and latent.") var denseWidth: Int = 256
    @Option(help: "Latent dimension.") var latentDim: Int?
    @Option(help: "bernoulli (BCE, data in [0,1]), gaussian (MSE), or auto.") var likelihood: String = "auto"
    @Option(help: "Batch normalization: none, encoder or both.") var batchNorm: String = "none"
    @Option(help: "Epochs (default 60 for digits, else 20).") var epochs: Int?
    @Option(help: "Samples per step (default 32 for digits, else 64).") var batchSize: Int?
    @Option(help: "adam, adamw or sgd.") var optimizer: String = "adam"
    @Option(help: "Learning rate.") var lr: Double = 1e-3
    @Option(help: "Weight decay (L2 for adam/sgd, decoupled for adamw).") var weightDecay: Double = 0
    @Option(help: "SGD momentum.") var momentum: Double = 0.9
    @Option(help: "constant, step:EVERY:GAMMA or cosine[:MIN].") var lrSchedule: String = "constant"
    @Option(help: "Clip the global gradient norm.") var clip: Double?
    @Option(help: "KL weight β (default 1; 4 for beta-vae).") var beta: Double?
    @Option(help: "none, linear:STEPS or cyclical:CYCLES:RATIO.") var klSchedule: String = "none"
    @Option(help: "Free bits: floor in nats on each latent dimension's KL.") var freeBits: Double?
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
    @Option(help: "Run folder (default runs/MODEL-DATA).") var out: String?
    @Option(help: "Continue the run in this folder from its last checkpoint (--epochs may raise the total).") var resume: String?
    @Flag(help: "Print one final JSON line on standard output.") var json = false
    @Flag(help: "Also write DIR/loss.png, DIR/latent.png and DIR/report.html (see `autoencoder report`).") var report = false
    @OptionGroup var deviceOptions: DeviceOptions

    func run() throws {
        let started = Date()
        let device = try deviceOptions.open()
        let (directory, runConfig, prepared) = try resume.map(resumeRun) ?? newRun(device: device)
        let model = try Autoencoder(config: runConfig.model, device: device, batchSize: runConfig.training.batchSize,
                                    seed: runConfig.training.seed)
        let trainer = try Trainer(model: model, config: runConfig.training, training: prepared.train,
                                  validation: prepared.validation)
        if resume != nil, let checkpoint = directory.latestCheckpoint() {
            try trainer.restore(from: SafeTensorsFormat.read(checkpoint), file: checkpoint.path)
            Terminal.note("resuming \(directory.url.path) after epoch \(trainer.epoch) (step \(trainer.step))")
        }
        if !json {
            print("training \(runConfig.model.kind.rawValue) (\(runConfig.model.architecture.rawValue), \(model.store.parameterCount) parameters) on \(prepared.description.source): \(prepared.train.count) samples, \(runConfig.training.epochs) epochs on \(device.info)")
        }
        try trainer.run(events: { report($0, total: runConfig.training.epochs) }, epochEnd: { metrics, isBest in
            try directory.write(metrics: trainer.history)
            let every = runConfig.training.checkpointEvery
            if every > 0 && metrics.epoch % every == 0 {
                try SafeTensorsFormat.write(try trainer.checkpoint(), to: directory.checkpointURL(epoch: metrics.epoch))
                try pruneCheckpoints(directory, keep: 2)
            }
            if isBest { try directory.write(model: model, to: directory.bestURL) }
        })
        try directory.write(model: model)
        let test = try Evaluation.run(model: model, data: prepared.test, seed: runConfig.training.seed)
        if report {
            let files = try RunReport.write(directory: directory, model: model, config: runConfig)
            Terminal.note("wrote \(files.map(\.lastPathComponent).joined(separator: ", "))")
        }
        if json {
            var line: [String: Any] = [
                "model": runConfig.model.kind.rawValue, "arch": runConfig.model.architecture.rawValue,
                "device": device.info.selector, "device_name": device.info.name, "epochs": trainer.epoch,
                "wall_seconds": Date().timeIntervalSince(started), "out": directory.url.path,
                "test": MetricsJSON.evaluation(test),
            ]
            if let last = trainer.history.last {
                line["train"] = MetricsJSON.train(last)
                if let validation = MetricsJSON.validation(last) { line["validation"] = validation }
            }
            try Terminal.printJSON(line)
        } else {
            print(String(format: "test: loss %.4f, reconstruction %.4f", test.loss, test.reconstruction)
                  + (test.kl.map { String(format: ", KL %.4f", $0) } ?? "")
                  + (test.penalty.map { String(format: ", penalty %.4f", $0) } ?? ""))
            print("wrote \(directory.url.path)/: model.safetensors, config.json, metrics.csv, checkpoints/ (\(String(format: "%.1f", Date().timeIntervalSince(started))) s)")
        }
    }

    /// Prints progress: a live bar on a terminal, one line per epoch otherwise (standard error with --json).
    private func report(_ event: TrainingEvent, total: Int) {
        switch event {
        case .progress(let epoch, let batch, let batches, let loss, let reconstruction, let kl, let rate):
            Terminal.status(String(format: "epoch %d/%d %@ %d/%d loss %.3f rec %.3f", epoch, total,
                                   Terminal.bar(Double(batch) / Double(max(batches, 1))), batch, batches, loss, reconstruction)
                            + (kl.map { String(format: " kl %.3f", $0) } ?? "") + String(format: " %.0f samples/s", rate))
        case .epoch(let m):
            Terminal.endStatus()
            var line = String(format: "epoch %d/%d loss %.4f rec %.4f", m.epoch, total, m.loss, m.reconstruction)
            if let kl = m.kl { line += String(format: " kl %.4f β %.3g", kl, m.beta ?? 0) }
            if let active = m.activeUnits { line += " active \(active)" }
            if let p = m.perplexity { line += String(format: " perplexity %.1f usage %.0f%%", p, 100 * (m.codebookUsage ?? 0)) }
            if let l0 = m.l0 { line += String(format: " L0 %.2f dead %d", l0, m.deadUnits ?? 0) }
            if let penalty = m.penalty { line += String(format: " penalty %.4f", penalty) }
            if let v = m.validationLoss { line += String(format: " val %.4f", v) }
            line += String(format: " %.0f samples/s", m.samplesPerSecond)
            if json { Terminal.note(line) } else { print(line) }
        case .warning(let message):
            Terminal.endStatus()
            Terminal.note("warning: " + message)
        }
    }

    /// Keeps the newest `keep` epoch checkpoints.
    private func pruneCheckpoints(_ directory: RunDirectory, keep: Int) throws {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.checkpointsURL.path)) ?? [])
            .filter { $0.hasPrefix("epoch-") && $0.hasSuffix(".safetensors") }.sorted()
        for name in names.dropLast(keep) {
            try? FileManager.default.removeItem(at: directory.checkpointsURL.appendingPathComponent(name))
        }
    }

    private func newRun(device: any Device) throws -> (RunDirectory, RunConfig, PreparedData) {
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
        let prepared = try PreparedData.load(source: data, csv: csv, normalization: normalization, testFraction: testFraction,
                                             validationFraction: validation, seed: seed)
        var config = ModelConfig(kind: kind, architecture: architecture, inputShape: prepared.train.shape)
        if let hidden { config.hidden = try Self.widths(hidden, option: "--hidden") }
        config.channels = try Self.widths(channels, option: "--channels")
        config.denseWidth = denseWidth
        if let latentDim { config.latentDim = latentDim } else if data == "digits" { config.latentDim = 16 }
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
        config.freeBits = freeBits
        if let capacity {
            let parts = capacity.split(separator: ":").compactMap { Double($0) }
            guard parts.count == 3, parts[0] >= 0, parts[1] >= 0, parts[2] > 0 else {
                throw ConfigError.invalid("--capacity takes CMAX:STEPS:GAMMA, e.g. 25:10000:1000")
            }
            config.capacity = CapacitySchedule(maximum: parts[0], steps: Int(parts[1]), gamma: parts[2])
        }
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
        try config.validate()

        var training = TrainingConfig()
        let batchSize = self.batchSize ?? (data == "digits" ? 32 : 64)
        training.epochs = epochs ?? (data == "digits" ? 60 : 20)
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
        training.earlyStoppingPatience = earlyStopping
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
        let runConfig = RunConfig(model: config, training: training, data: prepared.description, device: device.info.selector)
        try directory.write(config: runConfig)
        return (directory, runConfig, prepared)
    }

    private func resumeRun(_ path: String) throws -> (RunDirectory, RunConfig, PreparedData) {
        let directory = RunDirectory(url: URL(fileURLWithPath: path))
        var config = try directory.readConfig()
        if let epochs { config.training.epochs = epochs }
        let description = config.data
        let prepared = try PreparedData.load(source: description.source, csv: description.csv,
                                             normalization: description.normalizer.method,
                                             testFraction: description.testFraction,
                                             validationFraction: config.training.validationFraction, seed: config.training.seed)
        try directory.write(config: config)
        return (directory, config, prepared)
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
