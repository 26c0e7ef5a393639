import ArgumentParser
import AutoencoderKit
import Foundation

/// `autoencoder interpolate`: decoded codes on the path between two samples.
struct InterpolateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interpolate",
        abstract: "Decode codes on the line (or great circle, --slerp) between two samples' codes (image runs).")

    @OptionGroup var runOptions: RunOptions
    @Option(help: "Data holding the two samples (default: the run's own test split).") var data: String?
    @Option(help: "Index of the first sample.") var from: Int
    @Option(help: "Index of the last sample.") var to: Int
    @Option(help: "Images in the strip, both ends included.") var steps: Int = 10
    @Flag(help: "Spherical linear interpolation instead of a straight line.") var slerp = false
    @Option(help: "PNG file to write (default RUN/interpolate.png).") var out: String?

    func validate() throws {
        guard steps >= 2 else { throw ValidationError("--steps must be at least 2, got \(steps)") }
    }

    func run() throws {
        let config = try runOptions.readConfig()
        let images = try RunImages(config: config)
        let opened = try runOptions.open(config: config, batchSize: steps)
        let dataset = try opened.data(data)
        for (name, index) in [("--from", from), ("--to", to)] where index < 0 || index >= dataset.count {
            throw ConfigError.invalid("\(name) \(index) is out of range: the data has \(dataset.count) samples (0…\(dataset.count - 1))")
        }
        let codes = try opened.model.encode(dataset.subset([from, to]))
        let path = slerp ? LatentPath.slerp(from: codes.code(0), to: codes.code(1), steps: steps)
                         : LatentPath.linear(from: codes.code(0), to: codes.code(1), steps: steps)
        let decoded = try opened.model.decode(codes: Array(path.joined()))
        let raster = images.grid(decoded, columns: steps, rowLabels: [slerp ? "slerp" : "lerp"],
                                 title: "sample \(from) to sample \(to)")
        try RunOptions.write(raster, to: runOptions.output(out, default: "interpolate.png"))
    }
}
