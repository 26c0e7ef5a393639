/// Errors raised when joining an MPI job or running a collective. Each prints as one line.
public enum CommunicatorError: Error, CustomStringConvertible, Equatable {
    /// A launcher started the process (`variable` is set) but no Open MPI library in `tried` could be opened.
    case libraryUnavailable(variable: String, tried: [String], reason: String)
    /// The opened library lacks a function or global the communicator needs.
    case missingSymbol(String, library: String)
    /// An MPI call returned `code` instead of `MPI_SUCCESS`; `message` is MPI's own text for the code.
    case callFailed(call: String, code: Int32, message: String)
    /// A broadcast named a root that is not a rank of the job.
    case invalidRoot(Int, size: Int)
    /// The watchdog's timeout variable (``CollectiveWatchdog/timeoutVariable``) is set but not positive seconds.
    case invalidTimeout(variable: String, value: String)

    public var description: String {
        switch self {
        case .libraryUnavailable(let variable, let tried, let reason):
            return "started by an MPI launcher (\(variable) is set) but Open MPI could not be loaded "
                + "(tried \(tried.joined(separator: ", ")): \(oneLine(reason))): install Open MPI "
                + "(openmpi-bin, libopenmpi-dev) or run without mpirun"
        case .missingSymbol(let symbol, let library):
            return "\(library) lacks \(symbol): it is not Open MPI 4 or later"
        case .callFailed(let call, let code, let message):
            return "\(call) failed with MPI error \(code)\(message.isEmpty ? "" : ": \(oneLine(message))")"
        case .invalidRoot(let root, let size):
            return "broadcast root \(root) is not a rank of a job of \(size) process\(size == 1 ? "" : "es")"
        case .invalidTimeout(let variable, let value):
            return "\(variable) must be a positive number of seconds, got '\(value)'"
        }
    }

    private func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " | ")
    }
}
