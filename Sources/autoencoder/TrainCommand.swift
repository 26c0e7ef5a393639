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
        DIR/checkpoints/. --resume DIR continues a run exactly where its last checkpoint left it. Ctrl-C (or \
        SIGTERM) stops after the current step, writes the model, a checkpoint and the metrics so far, and exits \
        with 130 (a second Ctrl-C quits at once). \
        Anomaly detection: --normal-label L [--normal-count N] trains on N samples of label L and keeps every \
        other sample as the test split (e.g. --data breast-cancer --normal-label 0 --normal-count 250), which \
        `autoencoder detect --run DIR` then scores. \
        Under `mpirun -np N` the ranks train one model together: --batch-size is the global batch (divisible by N), \
        rank 0 writes the run folder and prints, and --resume needs the same N (README, "Training on several GPUs \
        or machines").
        """)

    @OptionGroup var options: TrainOptions
    @Option(help: "Latent dimension (default for tables and --normal-label: a quarter of the features, 2–32; digits 16; else 32).") var latentDim: Int?
    @Option(help: "Run folder (default runs/MODEL-DATA).") var out: String?
    @Option(help: "Continue the run in this folder from its last checkpoint (--epochs may raise the total).") var resume: String?
    @Flag(help: "Print one final JSON line on standard output.") var json = false
    @Flag(help: "Also write DIR/loss.png, DIR/latent.png and DIR/report.html (see `autoencoder report`).") var report = false
    @OptionGroup var deviceOptions: DeviceOptions

    func run() throws {
        try TrainingRanks.run(train)
    }

    /// Trains as one process, or as one rank of a data-parallel job (rank 0 alone writes and prints; the others
    /// return when training ends).
    private func train(_ ranks: TrainingRanks) throws {
        let started = Date()
        let device = try ranks.isParallel ? deviceOptions.open(localRank: ranks.communicator.localRank) : deviceOptions.open()
        let (directory, runConfig, data) = try resume.map { try resumeRun($0, ranks: ranks) }
            ?? options.newRun(device: device, out: out, latentDim: latentDim, ranks: ranks)
        let summary = try Self.summary(runConfig) + Self.detectionSummary(runConfig, data: data)
        if ranks.ownsFiles {
            if json { summary.forEach(Terminal.note) } else { summary.forEach { print($0) } }
        }
        let (trainer, model) = try RunTraining(directory: directory, config: runConfig, data: data, quiet: json,
                                               ranks: ranks).run(device: device, resume: resume != nil)
        guard ranks.ownsFiles else { return }
        try EnsembleTraining(directory: directory, config: runConfig, data: data).run(device: device, quiet: json)
        // no test split (--test-fraction 0): no test metrics at all, rather than zeros
        let test = try data.evaluateTest(model: model, seed: runConfig.training.seed).map {
            try MetricsJSON.finite($0, data: "the test split")
        }
        if report {
            let files = try RunReport.write(directory: directory, model: model, config: runConfig)
            Terminal.note("wrote \(files.map(\.lastPathComponent).joined(separator: ", "))")
        }
        if json {
            var line: [String: Any] = [
                "model": runConfig.model.kind.rawValue, "arch": runConfig.model.architecture.rawValue,
                "device": device.info.selector, "device_name": device.info.name,
                "precision": device.matmulPrecision.rawValue, "epochs": trainer.epoch,
                "wall_seconds": Date().timeIntervalSince(started), "out": directory.url.path,
            ]
            if let test { line["test"] = MetricsJSON.evaluation(test) }
            if let last = trainer.history.last {
                line["train"] = MetricsJSON.train(last)
                if let validation = MetricsJSON.validation(last) { line["validation"] = validation }
            }
            try Terminal.printJSON(line)
        } else {
            if let test {
                print(String(format: "test: loss %.4f, reconstruction %.4f", test.loss, test.reconstruction)
                      + (test.kl.map { String(format: ", KL %.4f", $0) } ?? "")
                      + (test.penalty.map { String(format: ", penalty %.4f", $0) } ?? "")
                      + MetricsJSON.estimateNote(test))
            } else {
                print("test: no test split (--test-fraction 0)")
            }
            let written = ["model.safetensors", "config.json", "metrics.csv", "kl_dimensions.csv", "checkpoints/"].filter {
                FileManager.default.fileExists(atPath: directory.url.appendingPathComponent($0).path)
            }
            print("wrote \(directory.url.path)/: \(written.joined(separator: ", ")) (\(String(format: "%.1f", Date().timeIntervalSince(started))) s)")
        }
    }

    /// The architecture and, for tables, the feature columns a run trains on, as printed before training.
    static func summary(_ config: RunConfig) throws -> [String] {
        let model = config.model, n = model.inputDimension
        let network: String
        switch model.architecture {
        case .mlp:
            let widths = [n] + model.hidden + [model.latentDim] + model.hidden.reversed() + [n]
            network = "mlp " + widths.map(String.init).joined(separator: " → ") + " (code \(model.latentDim))"
        case .conv:
            network = "conv, channels \(model.channels.map(String.init).joined(separator: ",")), dense \(model.denseWidth), code \(model.latentDim)"
        }
        var lines = ["model: \(model.kind.rawValue), \(network), \(model.likelihood.rawValue) likelihood"
                     + (config.ensemble.map { ", ensemble of \($0) seeds" } ?? "")]
        let description = config.data
        if let columns = try DataSource(parsing: description.source, csv: description.csv).featureColumns() {
            let label = description.source == "breast-cancer" ? "malignant" : description.csv.labelColumn
            lines.append("features: \(columns.count) columns (\(columns.joined(separator: ", ")))"
                         + (label.map { "; label column \($0)" } ?? "; no label column")
                         + "; \(description.normalizer.method.rawValue) normalization")
        } else {
            lines.append("features: \(description.shape.map(String.init).joined(separator: "×")) values per sample; \(description.normalizer.method.rawValue) normalization")
        }
        return lines
    }

    /// For an anomaly detector, which rows it fits on and which decide its threshold, as printed before training:
    /// nothing is held back silently.
    static func detectionSummary(_ config: RunConfig, data: RunData) -> [String] {
        guard let prepared = data.resident, config.ensemble != nil || config.contamination != nil
                || config.data.normalSplit != nil else { return [] }
        let fitted = prepared.train.count, validation = prepared.validation?.count ?? 0, test = prepared.test.count
        let rows = "\(fitted) rows fit the models, \(validation) validation rows"
        if let split = config.data.normalSplit {
            let anomalies = prepared.test.labels?.filter { $0 != split.label }.count ?? 0
            return ["detector: normal label \(split.label): \(rows) (normal, they set the threshold); the test split holds the other "
                    + "\(test - anomalies) normal and \(anomalies) anomalous rows" + (split.count == nil && config.data.testFraction > 0
                        ? " (--test-fraction \(config.data.testFraction) of the normal rows; --normal-count N or --test-fraction 0 trains on more)" : "")]
        }
        if let contamination = config.contamination {
            return ["detector: \(rows); expected contamination \(contamination): detect flags scores above the "
                    + "\(String(format: "%g", 100 * (1 - contamination)))th percentile of all \(fitted + validation) training rows" + (test > 0 ? "; \(test) test rows" : "")]
        }
        return ["detector: \(rows) (taken as normal: they set the threshold)" + (test > 0 ? "; \(test) test rows" : "")]
    }

    private func resumeRun(_ path: String, ranks: TrainingRanks) throws -> (RunDirectory, RunConfig, RunData) {
        let directory = RunDirectory(url: URL(fileURLWithPath: path))
        var config = try directory.readConfig()
        if let epochs = options.epochs { config.training.epochs = epochs }
        if ranks.isParallel {
            _ = try ranks.localBatch(config.training.batchSize)
            if let members = config.ensemble, members > 1 {
                throw ParallelRunError.unsupported("an ensemble of \(members) models", ranks: ranks.communicator.size)
            }
        }
        let description = config.data
        if let splits = try StreamedSplits.load(for: config) { return (directory, config, .streamed(splits)) }
        let prepared = try PreparedData.load(source: description.source, csv: description.csv,
                                             normalization: description.normalizer.method,
                                             testFraction: description.testFraction,
                                             validationFraction: config.training.validationFraction, seed: config.training.seed,
                                             normalSplit: description.normalSplit)
        return (directory, config, .resident(prepared))
    }
}
