import Foundation
import Synchronization
import Testing
@testable import Distributed

/// The watchdog, in process and without MPI: an inner communicator whose all-reduce blocks until released stands
/// for a rank waiting on one that stopped taking part.
@Suite struct CollectiveWatchdogTests {
    /// A communicator of rank 1 of 2 whose float all-reduce waits until ``release()`` and then adds 1 to each value;
    /// its other collectives return at once.
    final class StalledCommunicator: Communicator, @unchecked Sendable {
        private let released = DispatchSemaphore(value: 0)
        var rank: Int { 1 }
        var size: Int { 2 }
        var localRank: Int { 1 }
        func release() { released.signal() }
        func allReduceSum(_ values: inout [Float]) throws {
            released.wait()
            values = values.map { $0 + 1 }
        }
        func allReduceSum(_ values: inout [Double]) throws {}
        func broadcast(_ values: inout [Float], root: Int) throws {}
        func barrier() throws {}
        func abort(code: Int32) -> Never { fatalError("the test's watchdog must not abort") }
        func finalize() throws {}
    }

    /// A collective in flight past the timeout calls the abort handler once, with the one line naming the rank
    /// and the limit; the collective itself still completes when the other rank turns up.
    @Test func aStalledCollectiveCallsTheHandlerOnce() throws {
        let inner = StalledCommunicator()
        let messages = Mutex<[String]>([])
        let watchdog = CollectiveWatchdog(inner, timeout: 0.2) { message in
            messages.withLock { $0.append(message) }
            inner.release()
        }
        var values: [Float] = [1, 2]
        try watchdog.allReduceSum(&values)
        #expect(values == [2, 3])
        // the handler ran before the release, so exactly once; a few more polls must not call it again
        Thread.sleep(forTimeInterval: 0.3)
        #expect(messages.withLock { $0 } == ["rank 1: no collective completed in 0.2 s; a rank stopped taking part"])
    }

    /// Collectives that complete in time never call the handler, however long the process waits between them.
    @Test func collectivesInTimeAndIdleGapsAreNotReported() throws {
        let inner = StalledCommunicator()
        let reported = Atomic<Int>(0)
        let watchdog = CollectiveWatchdog(inner, timeout: 0.2) { _ in reported.add(1, ordering: .relaxed) }
        for _ in 0..<3 {
            inner.release()
            var values: [Float] = [0]
            try watchdog.allReduceSum(&values)
            #expect(values == [1])
            try watchdog.barrier()
            // idle between collectives for longer than the timeout
            Thread.sleep(forTimeInterval: 0.3)
        }
        #expect(reported.load(ordering: .relaxed) == 0)
        #expect(watchdog.rank == 1 && watchdog.size == 2 && watchdog.localRank == 1)
    }

    /// The timeout comes from AUTOENCODERKIT_COLLECTIVE_TIMEOUT in seconds, 300 when unset, and a value that is
    /// not positive seconds is one clear error.
    @Test func theTimeoutComesFromTheEnvironment() throws {
        #expect(try CollectiveWatchdog.timeout(from: [:]) == 300)
        #expect(try CollectiveWatchdog.timeout(from: [CollectiveWatchdog.timeoutVariable: ""]) == 300)
        #expect(try CollectiveWatchdog.timeout(from: [CollectiveWatchdog.timeoutVariable: " 2.5 "]) == 2.5)
        for bad in ["0", "-3", "soon", "inf"] {
            #expect(throws: CommunicatorError.invalidTimeout(variable: CollectiveWatchdog.timeoutVariable, value: bad)) {
                try CollectiveWatchdog.timeout(from: [CollectiveWatchdog.timeoutVariable: bad])
            }
        }
        #expect(CommunicatorError.invalidTimeout(variable: "V", value: "x").description
                == "V must be a positive number of seconds, got 'x'")
        #expect(CollectiveWatchdog.seconds(300) == "300" && CollectiveWatchdog.seconds(0.25) == "0.25")
    }
}
