import ArgumentParser
import AutoencoderKit
import Foundation

/// `autoencoder features`: the top-activating inputs of each latent of a (sparse) autoencoder.
struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "List, for each latent, the inputs that activate it most (sample indices and activations).",
        discussion: """
        Indices count samples of the data in file order (default: the run's whole data source). A streamed run's \
        data, and a .npy file or shard folder over the memory budget, are read a batch at a time, keeping only \
        each latent's top inputs.
        """)

    @Option(name: .customLong("run"), help: "The run folder written by `autoencoder train`.") var runPath: String
    @Option(help: "Data to encode (default: the run's own, all of it).") var data: String?
    @Option(help: "Inputs listed per latent.") var top: Int = 10
    @Flag(help: "Print one JSON line.") var json = false
    @OptionGroup var streaming: StreamChoice
    @OptionGroup var deviceOptions: DeviceOptions

    func validate() throws {
        guard top > 0 else { throw ValidationError("--top must be positive") }
    }

    func run() throws {
        let device = try deviceOptions.open()
        let directory = RunDirectory(url: URL(fileURLWithPath: runPath))
        let config = try directory.readConfig()
        let lists: [[(index: Int, activation: Float)]], count: Int
        if let streamed = try StreamedData.open(data, for: config, split: .all, choice: streaming, device: device) {
            count = streamed.count
            guard count > 0 else { throw DataError(file: data ?? config.data.source, .invalidArgument("no samples")) }
            let (model, _) = try directory.loadModel(device: device, batchSize: min(256, count), config: config)
            let rows = try streamed.rows(device: device, batchSize: model.batchSize)
            lists = try LatentAnalysis.topActivations(model: model, rows: rows, top: top)
        } else {
            let dataset = try PreparedData.load(source: data, for: config, split: .all)
            count = dataset.count
            guard count > 0 else { throw DataError(file: data ?? config.data.source, .invalidArgument("no samples")) }
            let (model, _) = try directory.loadModel(device: device, batchSize: min(256, count), config: config)
            let codes = try LatentAnalysis.codes(model: model, data: dataset)
            lists = LatentAnalysis.topActivations(codes: codes, count: count, latents: model.latentDim, top: top)
        }
        if json {
            try Terminal.printJSON(["samples": count, "latents": lists.enumerated().map { latent, list in
                ["latent": latent, "fires": list.count,
                 "top": list.map { ["index": $0.index, "activation": Double($0.activation)] }] as [String: Any]
            }])
        } else {
            for (latent, list) in lists.enumerated() {
                let entries = list.map { String(format: "%d (%.3g)", $0.index, $0.activation) }
                print("latent \(latent): " + (entries.isEmpty ? "never fires" : entries.joined(separator: ", ")))
            }
        }
    }
}
