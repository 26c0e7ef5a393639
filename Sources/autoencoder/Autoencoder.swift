import ArgumentParser
import AutoencoderKit
import Foundation

/// The `autoencoder` command-line tool.
///
/// Exit codes: 0 success, 1 a failure (bad data file, device fault, non-finite training), 2 a usage error
/// (unknown or impossible options).
@main
struct AutoencoderTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "autoencoder",
        abstract: "Train and use autoencoders on the CPU (OpenBLAS) or any OpenCL device.",
        subcommands: [TrainCommand.self, EvaluateCommand.self, DevicesCommand.self,
                      DetectCommand.self, ProbeCommand.self, SweepCommand.self, FeaturesCommand.self,
                      ReconstructCommand.self, SampleCommand.self, InterpolateCommand.self, TraverseCommand.self,
                      ArithmeticCommand.self, EncodeCommand.self, ReportCommand.self])

    static func main() {
        setvbuf(stdout, nil, _IOLBF, 0)
        if let problem = CPUDevice.threadSettingProblem() {
            Terminal.error(problem)
            Foundation.exit(2)
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as ConfigError {
            Terminal.error(error.description)
            Foundation.exit(2)
        } catch let error as ScheduleError {
            Terminal.error(error.description)
            Foundation.exit(2)
        } catch let error as ComputeError {
            if case .unknownDevice = error {
                Terminal.error(error.description)
                Foundation.exit(2)
            }
            if case .noGPU = error {
                Terminal.error(error.description)
                Foundation.exit(2)
            }
            Terminal.error(error.description)
            Foundation.exit(1)
        } catch let error as DataError {
            Terminal.error(error.description)
            Foundation.exit(1)
        } catch let error as RunError {
            if case .interrupted = error { Terminal.note(error.description) } else { Terminal.error(error.description) }
            Foundation.exit(error.exitCode)
        } catch let error as TrainingError {
            Terminal.error(error.description)
            Foundation.exit(1)
        } catch let error as LayerError {
            Terminal.error(error.description)
            Foundation.exit(2)
        } catch let error as PictureError {
            Terminal.error(error.description)
            Foundation.exit(1)
        } catch {
            let code = exitCode(for: error)
            if code == .success || code == .failure {
                exit(withError: error)
            }
            // argument-parser reports usage errors with EX_USAGE (64); this tool uses 2
            let message = fullMessage(for: error)
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            Foundation.exit(code == ExitCode.validationFailure ? 2 : code.rawValue)
        }
    }
}
