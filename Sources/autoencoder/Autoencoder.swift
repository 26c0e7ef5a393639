import ArgumentParser
import AutoencoderKit
import Foundation

/// The `autoencoder` command-line tool.
///
/// Exit codes: 0 success, 1 a failure (bad data file, device fault, non-finite training), 2 a usage error
/// (unknown or impossible options), 130 an interrupted run: ``ToolFailure`` maps each error to its code.
@main
struct AutoencoderTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "autoencoder",
        abstract: "Train and use autoencoders on the CPU (OpenBLAS) or any OpenCL device.",
        subcommands: [TrainCommand.self, EvaluateCommand.self, DevicesCommand.self,
                      DetectCommand.self, ProbeCommand.self, SweepCommand.self, FeaturesCommand.self,
                      ReconstructCommand.self, SampleCommand.self, InterpolateCommand.self, TraverseCommand.self,
                      ArithmeticCommand.self, EncodeCommand.self, ExportCommand.self, ReportCommand.self])

    static func main() {
        setvbuf(stdout, nil, _IOLBF, 0)
        if let problem = CPUDevice.threadSettingProblem() {
            Terminal.error(problem)
            Foundation.exit(2)
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as any ToolFailure {
            if failure.isNote { Terminal.note(failure.description) } else { Terminal.error(failure.description) }
            Foundation.exit(failure.exitCode)
        } catch {
            let code = exitCode(for: error)
            if code == .success || code == .failure {
                exit(withError: error)
            }
            // argument-parser reports usage errors with EX_USAGE (64); this tool uses 2, and says what is wrong in
            // one line without the usage summary that `--help` prints
            let message = message(for: error)
            if !message.isEmpty { Terminal.error(message) }
            Foundation.exit(code == ExitCode.validationFailure ? 2 : code.rawValue)
        }
    }
}
