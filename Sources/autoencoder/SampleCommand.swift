import ArgumentParser
import AutoencoderKit
import Foundation

/// `autoencoder sample`: decoded draws from the model's prior.
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Draw new samples from the prior and decode them (image runs).",
        discussion: """
        VAEs sample their prior N(0, I). VQ-VAEs sample a categorical prior fitted to code usage on the run's \
        training data, drawing each code position independently from its fitted frequencies (not an \
        autoregressive prior, so samples are rougher than the model can do). Other autoencoders sample a diagonal \
        Gaussian fitted to the mean and standard deviation of their training codes.
        """)

    @OptionGroup var runOptions: RunOptions
    @Option(name: .short, help: "How many samples.") var n: Int = 64
    @Option(help: "Images per row.") var columns: Int = 8
    @Option(help: "Random seed (default: the run's seed).") var seed: UInt64?
    @Option(help: "PNG file to write (default RUN/samples.png).") var out: String?

    func validate() throws {
        guard n > 0 else { throw ValidationError("-n must be positive, got \(n)") }
        guard columns > 0 else { throw ValidationError("--columns must be positive, got \(columns)") }
    }

    func run() throws {
        let config = try runOptions.readConfig()
        let images = try RunImages(config: config)
        let opened = try runOptions.open(config: config, batchSize: n)
        let prior = try LatentPrior.fit(model: opened.model) { try opened.data(nil, split: .train) }
        let codes = try prior.sample(count: n, seed: seed ?? config.training.seed, device: opened.device)
        let raster = images.grid(try opened.model.decode(codes: codes), columns: columns)
        print("prior: \(prior.summary)")
        try RunOptions.write(raster, to: runOptions.output(out, default: "samples.png"))
    }
}
