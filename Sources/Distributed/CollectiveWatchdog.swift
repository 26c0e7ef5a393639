import Foundation
import Synchronization

/// A communicator that ends the job when one of its collectives has been in flight for longer than a limit.
///
/// A rank that stops taking part (stuck in a driver call, stopped by a debugger, its node gone without the
/// launcher noticing) would leave every other rank waiting in its next collective forever. This wrapper passes
/// each collective on to `inner` and records when it started; a background thread looks every
/// ``pollInterval`` and, once a collective has been in flight longer than ``timeout`` seconds, calls
/// `onTimeout` with the line `rank R: no collective completed in T s; a rank stopped taking part`. The default
/// `onTimeout` prints that line on standard error and calls `inner.abort(code: 1)`, which ends every rank.
/// `onTimeout` runs at most once per stalled collective.
///
/// ``finalize()`` and ``abort(code:)`` are passed on unwatched.
public final class CollectiveWatchdog: Communicator, @unchecked Sendable {
    /// The environment variable that sets ``timeout`` in seconds.
    public static let timeoutVariable = "AUTOENCODERKIT_COLLECTIVE_TIMEOUT"
    /// The limit when ``timeoutVariable`` is unset: long enough for a slow step, a validation pass or rank 0
    /// writing a checkpoint between two collectives.
    public static let defaultTimeout: Double = 300

    /// The communicator that runs the collectives.
    public let inner: any Communicator
    /// Seconds a collective may stay in flight.
    public let timeout: Double
    /// How often the background thread looks: a tenth of the timeout, at most one second.
    public var pollInterval: Double { min(timeout / 10, 1) }

    private let watch: Watch

    /// Watches `inner`'s collectives.
    ///
    /// - Parameters:
    ///   - inner: the communicator that runs the collectives.
    ///   - timeout: seconds a collective may stay in flight (positive).
    ///   - onTimeout: called on the background thread with the one-line message when a collective overruns;
    ///     `nil` prints it on standard error and calls `inner.abort(code: 1)`.
    public init(_ inner: any Communicator, timeout: Double = CollectiveWatchdog.defaultTimeout,
                onTimeout: (@Sendable (String) -> Void)? = nil) {
        precondition(timeout > 0 && timeout.isFinite, "watchdog timeout \(timeout)")
        self.inner = inner
        self.timeout = timeout
        let handler = onTimeout ?? { message in
            FileHandle.standardError.write(Data((message + "\n").utf8))
            inner.abort(code: 1)
        }
        let message = "rank \(inner.rank): no collective completed in \(Self.seconds(timeout)) s; a rank stopped taking part"
        watch = Watch(timeout: timeout, message: message, onTimeout: handler)
        let watch = self.watch, interval = pollInterval
        let thread = Thread { watch.run(every: interval) }
        thread.name = "autoencoderkit-collective-watchdog"
        thread.start()
    }

    deinit { watch.stop() }

    /// The timeout that `environment` asks for: ``timeoutVariable`` as positive seconds, else ``defaultTimeout``.
    ///
    /// - Throws: ``CommunicatorError/invalidTimeout(variable:value:)`` when the variable is set but not a
    ///   positive number.
    public static func timeout(from environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Double {
        guard let text = environment[timeoutVariable]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
            return defaultTimeout
        }
        guard let seconds = Double(text), seconds > 0, seconds.isFinite else {
            throw CommunicatorError.invalidTimeout(variable: timeoutVariable, value: text)
        }
        return seconds
    }

    public var rank: Int { inner.rank }
    public var size: Int { inner.size }
    public var localRank: Int { inner.localRank }

    public func allReduceSum(_ values: inout [Float]) throws {
        try watched { try inner.allReduceSum(&values) }
    }

    public func allReduceSum(_ values: inout [Double]) throws {
        try watched { try inner.allReduceSum(&values) }
    }

    public func broadcast(_ values: inout [Float], root: Int) throws {
        try watched { try inner.broadcast(&values, root: root) }
    }

    public func barrier() throws {
        try watched { try inner.barrier() }
    }

    public func abort(code: Int32) -> Never { inner.abort(code: code) }

    public func finalize() throws {
        watch.stop()
        try inner.finalize()
    }

    private func watched(_ collective: () throws -> Void) throws {
        watch.begin()
        defer { watch.end() }
        try collective()
    }

    /// `300` for whole seconds, else the shortest decimal (`0.25`).
    static func seconds(_ value: Double) -> String {
        value == value.rounded() && value < 1e15 ? String(Int(value)) : String(value)
    }
}

/// The state the watchdog's thread shares with the collectives: when the one in flight started.
private final class Watch: Sendable {
    private struct State {
        /// Start of the collective in flight (monotonic nanoseconds), or nil between collectives.
        var started: UInt64?
        /// Whether `onTimeout` ran for the collective in flight.
        var reported = false
        var stopped = false
    }

    private let state = Mutex(State())
    private let timeoutNanoseconds: UInt64
    private let message: String
    private let onTimeout: @Sendable (String) -> Void

    init(timeout: Double, message: String, onTimeout: @escaping @Sendable (String) -> Void) {
        timeoutNanoseconds = UInt64(timeout * 1e9)
        self.message = message
        self.onTimeout = onTimeout
    }

    func begin() {
        let now = DispatchTime.now().uptimeNanoseconds
        state.withLock { $0.started = now; $0.reported = false }
    }

    func end() {
        state.withLock { $0.started = nil }
    }

    func stop() {
        state.withLock { $0.stopped = true }
    }

    /// Looks every `interval` seconds until stopped.
    func run(every interval: Double) {
        while true {
            Thread.sleep(forTimeInterval: interval)
            let now = DispatchTime.now().uptimeNanoseconds
            let (stopped, overdue) = state.withLock { state -> (Bool, Bool) in
                guard !state.stopped else { return (true, false) }
                guard let started = state.started, !state.reported, now &- started > timeoutNanoseconds else {
                    return (false, false)
                }
                state.reported = true
                return (false, true)
            }
            if stopped { return }
            if overdue { onTimeout(message) }
        }
    }
}
