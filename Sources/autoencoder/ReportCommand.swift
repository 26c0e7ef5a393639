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
        let opened = try runOptions.open(config: config, batchSize: 256)
        let files = try RunReport.write(directory: opened.directory, model: opened.model, config: config)
        print("wrote \(files.map(\.path).joined(separator: ", "))")
    }
}
