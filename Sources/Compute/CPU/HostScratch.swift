import Foundation

/// Host scratch memory of the CPU backend, kept between calls: a primitive that needs work space borrows
/// one region per worker, grown to the largest size asked for and never freed while the device lives, so a
/// training step allocates nothing once its first step has run.
///
/// Borrowing holds a lock for the whole call (calls that share the device from several threads take turns);
/// the regions are 64-byte aligned and their contents are undefined.
final class HostScratch: @unchecked Sendable {
    private let lock = NSLock()
    private var regions: [(pointer: UnsafeMutablePointer<Float>, capacity: Int)] = []

    deinit {
        for region in regions { free(region.pointer) }
    }

    /// Runs `body` with `count` regions of `floats` floats each (at least one float), index i for worker i.
    func borrow<Result>(_ count: Int, floats: Int, _ body: (UnsafeBufferPointer<UnsafeMutablePointer<Float>>) -> Result) -> Result {
        lock.lock()
        defer { lock.unlock() }
        let floats = max(floats, 1)
        while regions.count < count { regions.append((Self.allocate(floats), floats)) }
        for i in 0..<count where regions[i].capacity < floats {
            free(regions[i].pointer)
            regions[i] = (Self.allocate(floats), floats)
        }
        return withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>.self, capacity: count) { pointers in
            for i in 0..<count { pointers.initializeElement(at: i, to: regions[i].pointer) }
            return body(UnsafeBufferPointer(pointers))
        }
    }

    private static func allocate(_ floats: Int) -> UnsafeMutablePointer<Float> {
        var memory: UnsafeMutableRawPointer?
        guard posix_memalign(&memory, 64, floats * MemoryLayout<Float>.stride) == 0, let memory else {
            preconditionFailure("out of host memory for \(floats) floats of scratch")
        }
        return memory.bindMemory(to: Float.self, capacity: floats)
    }
}
