import AutoencoderKit

/// An error the tool reports as one line and an exit code: 2 for a usage error (options that are unknown,
/// impossible together, or name something that does not exist), 1 for a failure of the work itself (a bad data
/// file, a device fault, non-finite training), 130 for an interrupted run. Every error type the libraries throw
/// conforms here, so `main` has one path; an error of another type goes to argument-parser.
protocol ToolFailure: Error, CustomStringConvertible {
    /// The process's exit status for this error.
    var exitCode: Int32 { get }
    /// Whether the line is a note (the run stopped as asked) rather than an error.
    var isNote: Bool { get }
}

extension ToolFailure {
    var isNote: Bool { false }
}

/// An error that is always the user's: exit 2.
protocol UsageFailure: ToolFailure {}

extension UsageFailure {
    var exitCode: Int32 { 2 }
}

/// An error that is always a failure of the work: exit 1.
protocol WorkFailure: ToolFailure {}

extension WorkFailure {
    var exitCode: Int32 { 1 }
}

extension ConfigError: UsageFailure {}
extension ScheduleError: UsageFailure {}
extension LayerError: UsageFailure {}
extension DataError: WorkFailure {}
extension TrainingError: WorkFailure {}
extension PictureError: WorkFailure {}

extension ComputeError: ToolFailure {
    /// A device that does not exist is a usage error; anything that went wrong on a device is a failure.
    var exitCode: Int32 {
        switch self {
        case .unknownDevice, .noGPU: return 2
        default: return 1
        }
    }
}

extension CommunicatorError: ToolFailure {
    /// A badly set watchdog timeout is a usage error; failing to join or run the job is a failure.
    var exitCode: Int32 {
        if case .invalidTimeout = self { return 2 }
        return 1
    }
}

extension RunError: ToolFailure {
    var isNote: Bool {
        if case .interrupted = self { return true }
        return false
    }
}
