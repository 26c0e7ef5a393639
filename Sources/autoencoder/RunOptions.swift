import ArgumentParser
import AutoencoderKit
import Foundation

/// `--run DIR` and `--device`, shared by the commands that use a trained run.
struct RunOptions: ParsableArguments {
    @Option(name: .customLong("run"), help: "The run folder written by `autoencoder train`.") var runPath: String
    @OptionGroup var deviceOptions: DeviceOptions

    /// A trained run opened for use.
    struct Opened {
        let directory: RunDirectory
        let config: RunConfig
        let device: any Device
        let model: Autoencoder

        /// The run's data split, or `source` (a data argument) through the run's normalizer.
        func data(_ source: String?, split: PreparedData.Split = .test) throws -> Dataset {
            try PreparedData.load(source: source, for: config, split: split)
        }
    }

    var directory: RunDirectory { RunDirectory(url: URL(fileURLWithPath: runPath)) }

    /// Reads the run's configuration (checking it before the device opens).
    func readConfig() throws -> RunConfig { try directory.readConfig() }

    /// Opens the device and loads the trained model with workspaces for `batchSize` samples.
    func open(config: RunConfig, batchSize: Int) throws -> Opened {
        let device = try deviceOptions.open()
        let (model, _) = try directory.loadModel(device: device, batchSize: max(1, min(batchSize, 256)), config: config)
        return Opened(directory: directory, config: config, device: device, model: model)
    }

    /// `--out` as given, or `name` inside the run folder.
    func output(_ out: String?, default name: String) -> URL {
        out.map { URL(fileURLWithPath: $0) } ?? directory.url.appendingPathComponent(name)
    }

    /// Writes `raster` as a PNG file (atomically) and says so.
    static func write(_ raster: Raster, to url: URL) throws {
        try raster.write(to: url)
        print("wrote \(url.path) (\(raster.width)×\(raster.height))")
    }
}
