import Foundation
import Synchronization

/// Ctrl-C (SIGINT) and SIGTERM during training: the first signal asks the trainer to stop after its current
/// step, so the run can write its model, a resumable checkpoint and its metrics; a second one ends the process
/// at once with exit code 130.
enum Interruption {
    /// Signals received since ``catchSignals()``.
    private static let received = Atomic<Int>(0)

    /// Whether a stop was asked for.
    static var requested: Bool { received.load(ordering: .relaxed) > 0 }

    /// Installs the handlers (until ``restoreDefaults()``) and unblocks both signals on the calling thread, in
    /// case the parent process started this one with them blocked.
    static func catchSignals() {
        received.store(0, ordering: .relaxed)
        var set = sigset_t()
        sigemptyset(&set)
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber) { _ in
                if Interruption.received.add(1, ordering: .relaxed).newValue > 1 { _exit(130) }
            }
            sigaddset(&set, signalNumber)
        }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Gives SIGINT and SIGTERM their default action again (the process ends at once).
    static func restoreDefaults() {
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
