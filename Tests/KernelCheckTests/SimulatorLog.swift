import Foundation

/// What Oclgrind reported: the file its `OCLGRIND_LOG` variable names, read a part at a time, so that each check
/// sees only the reports its own launches caused (Oclgrind appends a report per fault: a data race, an invalid
/// read or write, barrier divergence, an API error under `OCLGRIND_CHECK_API=1`). Oclgrind empties the file when a
/// device is opened, so a check reads what its own device's launches wrote.
///
/// Outside the Oclgrind run the variable is unset and there is nothing to read.
final class SimulatorLog: @unchecked Sendable {
    /// The log of this process, nil when `OCLGRIND_LOG` is unset.
    static let shared: SimulatorLog? = ProcessInfo.processInfo.environment["OCLGRIND_LOG"].map(SimulatorLog.init)

    /// Whether this run must be the Oclgrind check: `.ci/run` sets `AUTOENCODERKIT_OCLGRIND=1` for it, and the
    /// checks then fail unless the first OpenCL device is Oclgrind and its log is set.
    static let required = ProcessInfo.processInfo.environment["AUTOENCODERKIT_OCLGRIND"] == "1"

    let path: String
    private let lock = NSLock()
    private var offset: UInt64 = 0

    init(path: String) { self.path = path }

    /// The text appended to the log since the last call (empty when there is none, or no file yet).
    func newReports() -> String {
        lock.withLock {
            guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
            defer { try? handle.close() }
            // Oclgrind starts the file anew for each device opened
            if let size = try? handle.seekToEnd(), size < offset { offset = 0 }
            try? handle.seek(toOffset: offset)
            let data = (try? handle.readToEnd()) ?? Data()
            offset += UInt64(data.count)
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}
