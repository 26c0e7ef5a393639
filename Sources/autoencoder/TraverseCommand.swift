import ArgumentParser
import AutoencoderKit
import Foundation

/// `autoencoder traverse`: one row per latent dimension, swept around the mean code.
struct TraverseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "traverse",
        abstract: "Sweep each latent dimension over ±3σ around the mean code and decode (image runs).",
        discussion: """
        The centre is the mean code of the run's training data; σ is 1 for VAEs (their prior) and the codes' \
        standard deviation for other models. Row j varies dimension j only.
        """)

    @OptionGroup var runOptions: RunOptions
    @Option(help: "Images per row.") var steps: Int = 9
    @Option(help: "Sweep over ±RANGE standard deviations.") var range: Double = 3
    @Option(help: "PNG file to write (default RUN/traverse.png).") var out: String?

    func validate() throws {
        guard steps >= 2 else { throw ValidationError("--steps must be at least 2, got \(steps)") }
        guard range > 0, range.isFinite else { throw ValidationError("--range must be positive") }
    }

    func run() throws {
        let config = try runOptions.readConfig()
        let images = try RunImages(config: config)
        let opened = try runOptions.open(config: config, batchSize: 256)
        let codes = try opened.model.encode(try opened.data(nil, split: .train))
        let sigma = config.model.kind.isVariational ? [Double](repeating: 1, count: codes.dimension) : codes.standardDeviation()
        let grid = LatentPath.traversal(center: codes.mean(), sigma: sigma, steps: steps, range: range)
        let decoded = try opened.model.decode(codes: Array(grid.joined().joined()))
        let labels = LatentPath.traversalOffsets(steps: steps, range: range).map { String(format: "%+.3gσ", $0) }
        let raster = images.grid(decoded, columns: steps, rowLabels: (0..<codes.dimension).map { "z\($0)" },
                                 columnLabels: labels)
        try RunOptions.write(raster, to: runOptions.output(out, default: "traverse.png"))
    }
}
