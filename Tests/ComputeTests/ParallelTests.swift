@testable import Compute
import Foundation
import Synchronization
import Testing

/// The CPU backend's worker pool: every part of every loop runs exactly once, with loops back to back, nested, and
/// started from several threads at once.
@Suite struct ParallelTests {
    /// Parts run per loop, counted per part.
    private final class Counts: @unchecked Sendable {
        let lock = NSLock()
        var values: [Int]
        init(_ count: Int) { values = Array(repeating: 0, count: count) }
        func add(_ index: Int) { lock.withLock { values[index] += 1 } }
    }

    @Test(arguments: [0, 1, 2, 3, 7, 64])
    func everyPartRunsOnce(parts: Int) {
        for _ in 0..<200 {
            let counts = Counts(parts)
            WorkerPool.shared.run(parts: parts) { counts.add($0) }
            #expect(counts.values == Array(repeating: 1, count: parts))
        }
    }

    @Test func chunksCoverTheRangeOnceAcrossManyLoops() {
        // thousands of short loops back to back, as a training step issues them
        for count in [1, 100, 16_384, 40_000, 100_003] {
            let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
            defer { counts.deallocate() }
            for _ in 0..<20 {
                counts.initialize(repeating: 0)
                Parallel.chunks(count, grain: 1_000) { range in
                    for i in range { counts[i] += 1 }  // the ranges are disjoint
                }
                #expect(counts.allSatisfy { $0 == 1 }, "count \(count)")
            }
        }
    }

    @Test func nestedLoopsRunInline() {
        let counts = Counts(4 * 5)
        WorkerPool.shared.run(parts: 4) { outer in
            WorkerPool.shared.run(parts: 5) { inner in counts.add(outer * 5 + inner) }
        }
        #expect(counts.values == Array(repeating: 1, count: 20))
    }

    @Test func loopsFromSeveralThreadsAtOnce() {
        let total = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<500 {
                WorkerPool.shared.run(parts: 3) { _ in total.add(1, ordering: .relaxed) }
            }
        }
        #expect(total.load(ordering: .relaxed) == 4 * 500 * 3)
    }
}

/// The CPU backend's thread count: the variable, else the processors capped by a cgroup CPU quota.
@Suite struct CoreCountTests {
    @Test func quotaLines() {
        #expect(CoreCount.quota(cpuMax: "200000 100000\n") == 2)
        #expect(CoreCount.quota(cpuMax: "150000 100000") == 2)
        #expect(CoreCount.quota(cpuMax: "50000 100000") == 1)
        #expect(CoreCount.quota(cpuMax: "max 100000\n") == nil)
        #expect(CoreCount.quota(cpuMax: "-1 100000") == nil)
        #expect(CoreCount.quota(cpuMax: "") == nil)
        #expect(CoreCount.quota(cpuMax: "100000") == nil)
    }

    @Test func resolution() {
        #expect(CoreCount.resolve(environment: [:], processors: 64, quota: 2) == 2)
        #expect(CoreCount.resolve(environment: [:], processors: 2, quota: nil) == 2)
        #expect(CoreCount.resolve(environment: [:], processors: 4, quota: 8) == 4)
        #expect(CoreCount.resolve(environment: [:], processors: 0, quota: nil) == 1)
        #expect(CoreCount.resolve(environment: [CoreCount.variable: "3"], processors: 64, quota: 2) == 3)
        #expect(CoreCount.resolve(environment: [CoreCount.variable: "0"], processors: 4, quota: nil) == 4)
        #expect(CoreCount.resolve(environment: [CoreCount.variable: "many"], processors: 4, quota: nil) == 4)
    }
}

/// An unusable `AUTOENCODERKIT_THREADS` is named, not silently ignored.
@Suite struct ThreadSettingTests {
    @Test func unusableValuesAreReported() {
        for text in ["abc", "0", "-2", "1.5"] {
            let problem = CPUDevice.threadSettingProblem(in: [CoreCount.variable: text])
            #expect(problem?.contains("AUTOENCODERKIT_THREADS must be a positive number of threads, got '\(text)'") == true)
        }
        #expect(CPUDevice.threadSettingProblem(in: [CoreCount.variable: "3"]) == nil)
        #expect(CPUDevice.threadSettingProblem(in: [CoreCount.variable: " 2 "]) == nil)
        #expect(CPUDevice.threadSettingProblem(in: [:]) == nil)
        #expect(CPUDevice.threadSettingProblem(in: [CoreCount.variable: ""]) == nil)
    }
}
