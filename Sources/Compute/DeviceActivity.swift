import Foundation

/// Counts of the memory traffic and waits a device has seen since it was opened: the evidence for the design rule
/// that a training step allocates nothing and never waits for the device.
///
/// Every count only grows. Take a snapshot (``DeviceCore/activity``) before and after some work and subtract:
/// `device.activity - before` is what that work did. Device-to-device copies and fills are not counted (they
/// queue without waiting); neither is host scratch memory a CPU primitive may use internally, since it is no
/// device buffer.
public struct DeviceActivity: Equatable, Sendable, CustomStringConvertible {
    /// Buffers allocated: calls of ``DeviceCore/makeBuffer(count:dtype:)``.
    public var allocations = 0
    /// Bytes of those buffers: ``DType/size`` per element, at least one element each, rounded up to a multiple of
    /// four (a `uint8` buffer of 60,000 × 784 pixels counts 47,040,000 bytes, a `float32` one four times that).
    public var allocatedBytes = 0
    /// Host read-backs: calls of ``DeviceCore/read(_:into:)`` (floats, integers or bytes) that moved at least one
    /// element. Each waits for the work queued before it.
    public var reads = 0
    /// Bytes read back to the host.
    public var readBytes = 0
    /// Host writes: calls of ``DeviceCore/write(_:to:)`` (floats, integers or bytes) that moved at least one element.
    public var writes = 0
    /// Bytes written from the host.
    public var writtenBytes = 0
    /// Explicit waits for the device: calls of ``DeviceCore/synchronize()``, including the one inside
    /// ``DeviceCore/checkHealth()``. (Reads wait too; they are counted in ``reads`` only.)
    public var synchronizations = 0
    /// Kernels enqueued on an OpenCL device (each costs the host a few microseconds to issue, whatever its size).
    /// The CPU backend runs primitives directly and counts none.
    public var launches = 0

    /// No activity.
    public init() {}

    /// The activity between an earlier snapshot `earlier` and a later one `later`, count by count.
    public static func - (later: DeviceActivity, earlier: DeviceActivity) -> DeviceActivity {
        var difference = DeviceActivity()
        difference.allocations = later.allocations - earlier.allocations
        difference.allocatedBytes = later.allocatedBytes - earlier.allocatedBytes
        difference.reads = later.reads - earlier.reads
        difference.readBytes = later.readBytes - earlier.readBytes
        difference.writes = later.writes - earlier.writes
        difference.writtenBytes = later.writtenBytes - earlier.writtenBytes
        difference.synchronizations = later.synchronizations - earlier.synchronizations
        difference.launches = later.launches - earlier.launches
        return difference
    }

    public var description: String {
        "\(allocations) allocations (\(allocatedBytes) B), \(reads) reads (\(readBytes) B), "
            + "\(writes) writes (\(writtenBytes) B), \(synchronizations) synchronizations, \(launches) launches"
    }
}

/// The thread-safe tally behind a device's ``DeviceActivity``: the CPU backend runs primitives from several
/// threads, and callers may share one device, so every update takes a lock.
final class DeviceActivityCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var counts = DeviceActivity()

    /// A consistent snapshot of every count.
    var snapshot: DeviceActivity {
        lock.lock()
        defer { lock.unlock() }
        return counts
    }

    /// Counts one buffer of `bytes` bytes.
    func allocation(bytes: Int) {
        lock.lock()
        defer { lock.unlock() }
        counts.allocations += 1
        counts.allocatedBytes += bytes
    }

    /// Counts one read-back of `bytes` bytes.
    func read(bytes: Int) {
        lock.lock()
        defer { lock.unlock() }
        counts.reads += 1
        counts.readBytes += bytes
    }

    /// Counts one host write of `bytes` bytes.
    func write(bytes: Int) {
        lock.lock()
        defer { lock.unlock() }
        counts.writes += 1
        counts.writtenBytes += bytes
    }

    /// Counts one kernel launch.
    func launch() {
        lock.lock()
        defer { lock.unlock() }
        counts.launches += 1
    }

    /// Counts one wait for the device.
    func synchronization() {
        lock.lock()
        defer { lock.unlock() }
        counts.synchronizations += 1
    }
}
