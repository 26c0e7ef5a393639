import Dispatch
import Foundation

/// Splits loops over the CPU's cores.
enum Parallel {
    /// Cores used by the CPU backend.
    static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Runs `body` over disjoint chunks covering `0..<count`, in parallel when each chunk would hold at
    /// least `grain` iterations.
    static func chunks(_ count: Int, grain: Int = 16_384, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let parts = min(cores, max(1, count / max(grain, 1)))
        if parts == 1 {
            body(0..<count)
            return
        }
        let size = (count + parts - 1) / parts
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            let start = p * size
            let end = min(count, start + size)
            if start < end { body(start..<end) }
        }
    }

    /// Runs `body(i)` for every `i` in `0..<count`, spreading the indices over the cores when the
    /// total work (`count · costPerItem`) is large enough.
    static func forEach(_ count: Int, costPerItem: Int = 1, _ body: (Int) -> Void) {
        let grain = max(1, 16_384 / max(costPerItem, 1))
        chunks(count, grain: grain) { range in
            for i in range { body(i) }
        }
    }
}
