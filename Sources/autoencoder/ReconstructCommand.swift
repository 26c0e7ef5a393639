import ArgumentParser
import AutoencoderKit
import Foundation

/// `autoencoder reconstruct`: inputs over their reconstructions.
struct ReconstructCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconstruct",
        abstract: "Draw the first N samples over their reconstructions (image runs).")

    @OptionGroup var runOptions: RunOptions
    @Option(help: "Data to reconstruct (default: the run's own test split).") var data: String?
    @Option(name: .short, help: "How many samples.") var n: Int = 32
    @Option(help: "Images per row.") var columns: Int = 8
    @Option(help: "PNG file to write (default RUN/reconstruct.png).") var out: String?

    func validate() throws {
        guard n > 0 else { throw ValidationError("-n must be positive, got \(n)") }
        guard columns > 0 else { throw ValidationError("--columns must be positive, got \(columns)") }
    }

    func run() throws {
        let config = try runOptions.readConfig()
        let images = try RunImages(config: config)
        let opened = try runOptions.open(config: config, batchSize: n)
        let dataset = try opened.data(data)
        guard dataset.count > 0 else { throw ConfigError.invalid("the data holds no samples") }
        let shown = dataset.subset(Array(0..<min(n, dataset.count)))
        let outputs = try opened.model.reconstruct(shown)
        let raster = images.reconstructionGrid(inputs: shown.features, outputs: outputs, columns: columns)
        try RunOptions.write(raster, to: runOptions.output(out, default: "reconstruct.png"))
    }
}
