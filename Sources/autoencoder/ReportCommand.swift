import ArgumentParser
import AutoencoderKit
import Foundation

/// `autoencoder report`: the pictures and HTML page of a finished run.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write RUN/loss.png, RUN/latent.png and RUN/report.html (one self-contained page) for a finished run.")

    @OptionGroup var runOptions: RunOptions

    func run() throws {
        let config = try runOptions.readConfig()
        // the training batch size: the same z draws, so the page's test loss is the one `train` and `evaluate` print
        let device = try runOptions.deviceOptions.open()
        let (model, _) = try runOptions.directory.loadModel(device: device, batchSize: config.training.batchSize, config: config)
        let files = try RunReport.write(directory: runOptions.directory, model: model, config: config)
        print("wrote \(files.map(\.path).joined(separator: ", "))")
    }
}
