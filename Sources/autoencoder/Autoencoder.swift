import ArgumentParser
import Foundation

/// The `autoencoder` command-line tool.
@main
struct Autoencoder: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "autoencoder",
        abstract: "Train and use autoencoders on the CPU (OpenBLAS) or any OpenCL device.",
        subcommands: [DevicesCommand.self])
}
