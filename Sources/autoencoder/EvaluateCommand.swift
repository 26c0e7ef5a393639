import ArgumentParser
import AutoencoderKit
import Foundation

/// `autoencoder evaluate`: the test metrics of a trained run.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Print a trained run's loss terms on its test split or on other data.",
        discussion: """
        A VAE's loss is a sampled negative ELBO: one draw of z per sample, from the run's seed in batches of the \
        run's training batch size, so it repeats exactly and equals the test line `train` printed. A sparse \
        autoencoder trained with --sae also gets its FVU (Σ‖x − x̂‖² / Σ‖x − x̄‖² over the evaluated rows), \
        explained variance, L0 and the latents dead on those rows.
        """)

    @Option(name: .customLong("run"), help: "The run folder written by `autoencoder train`.") var runPath: String
    @Option(help: "Data to evaluate (default: the run's own test split).") var data: String?
    @Option(help: "Draws per sample for the importance-weighted log-likelihood of a VAE (0: skip).") var iwSamples: Int = 0
    @OptionGroup var columns: ColumnOptions
    @OptionGroup var streaming: StreamChoice
    @Flag(help: "Print one JSON line.") var json = false
    @OptionGroup var deviceOptions: DeviceOptions

    func validate() throws {
        guard iwSamples >= 0 else { throw ValidationError("--iw-samples must be ≥ 0") }
    }

    func run() throws {
        let device = try deviceOptions.open()
        let directory = RunDirectory(url: URL(fileURLWithPath: runPath))
        let config = try directory.readConfig()
        // a streamed run's own test split streams, and so does a .npy or shard folder over the memory budget
        let batch = config.training.batchSize
        let streamed = try StreamedData.open(data, for: config, split: .test, choice: streaming, device: device)
        let dataset = try streamed == nil ? PreparedData.load(source: data, for: config, csv: columns.csv(for: config, files: data != nil),
                                                                        requireLabels: columns.requiresLabels) : nil
        let count = streamed?.count ?? dataset?.count ?? 0
        guard count > 0 else {
            throw ConfigError.invalid("\(runPath) has no test split (trained with --test-fraction 0): give --data")
        }
        let rows: any BatchedRows, name: String
        if let streamed {
            rows = try streamed.rows(device: device, batchSize: batch)
            name = streamed.name
        } else {
            let loaded = dataset ?? Dataset(name: "", shape: config.data.shape, features: [])
            rows = try DeviceDataset(device: device, data: loaded, batchSize: batch)
            name = loaded.name
        }
        // the training batch size: the same z draws as the test line of `train`
        let (model, _) = try directory.loadModel(device: device, batchSize: batch, config: config)
        let evaluated = try Evaluation.run(model: model, data: rows, seed: config.training.seed)
        let result = try MetricsJSON.finite(evaluated, data: data ?? "the test split")
        var logLikelihood: Double?
        if iwSamples > 0 {
            logLikelihood = try Evaluation.importanceWeightedLogLikelihood(model: model, data: rows, samples: iwSamples,
                                                                           seed: config.training.seed)
            if let value = logLikelihood, !value.isFinite {
                throw DataError(file: data ?? "the test split", .nonFinite("importance-weighted log-likelihood \(value) on this data: is it on the scale the run was trained on?"))
            }
        }
        let dictionary = try Evaluation.dictionaryMetrics(model: model, data: rows, evaluation: evaluated)
        if json {
            var line = MetricsJSON.evaluation(result)
            if let dictionary {
                line["fvu"] = dictionary.fvu
                line["explained_variance"] = dictionary.explainedVariance
                line["l0"] = dictionary.l0
                line["dead_latents"] = dictionary.deadLatents
                line["dead_fraction"] = dictionary.deadFraction
            }
            line["samples"] = count
            line["model"] = config.model.kind.rawValue
            line["device"] = device.info.selector
            if let logLikelihood { line["iw_log_likelihood"] = logLikelihood; line["iw_samples"] = iwSamples }
            try Terminal.printJSON(line)
        } else {
            print("\(count) samples of \(name) on \(device.info)")
            print(String(format: "loss %.4f  reconstruction %.4f", result.loss, result.reconstruction)
                  + (result.kl.map { String(format: "  KL %.4f", $0) } ?? "")
                  + (result.penalty.map { String(format: "  penalty %.4f", $0) } ?? "")
                  + MetricsJSON.estimateNote(result))
            if let logLikelihood { print(String(format: "importance-weighted log-likelihood (k = %d): %.4f nats", iwSamples, logLikelihood)) }
            if let dictionary {
                print(String(format: "FVU %.4f  explained variance %.4f  L0 %.2f  dead %d of %d latents (%.2f%%)", dictionary.fvu,
                             dictionary.explainedVariance, dictionary.l0, dictionary.deadLatents, dictionary.latents,
                             100 * dictionary.deadFraction))
            }
        }
    }
}
