import CBLAS
import Foundation

/// The CPU backend: OpenBLAS for matrix products, vectorized Swift and C loops spread over all cores for
/// everything else. Work runs synchronously, so ``synchronize()`` has nothing to wait for.
public final class CPUDevice: DeviceCore {
    public let info: DeviceInfo
    private let counter = DeviceActivityCounter()
    /// Work space of the primitives that need some (convolutions), kept between calls.
    let hostScratch = HostScratch()

    public var activity: DeviceActivity { counter.snapshot }

    /// Creates the CPU backend (the first one also sets OpenBLAS up: see
    /// ``BLASConfiguration``).
    /// Why `AUTOENCODERKIT_THREADS` in `environment` cannot be used (set and not empty, but not a positive
    /// integer), or nil.
    /// The backend then falls back to its default thread count; a tool should say so or refuse.
    public static func threadSettingProblem(
        in environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        CoreCount.problem(environment)
    }

    public init() {
        let core = BLASConfiguration.coreName
        info = DeviceInfo(kind: .cpu, index: nil, name: CPUDevice.processorName(), vendor: "OpenBLAS (\(core) kernels)",
                          driver: CPUDevice.blasVersion(), computeUnits: Parallel.cores,
                          memoryBytes: Int(ProcessInfo.processInfo.physicalMemory), isGPU: false)
    }

    public func makeBuffer(count: Int, dtype: DType) throws -> Buffer {
        precondition(count >= 0, "negative buffer size")
        let total = dtype.allocationBytes(count: count)
        var memory: UnsafeMutableRawPointer?
        guard let total, posix_memalign(&memory, 64, total) == 0, let pointer = memory else {
            throw ComputeError.outOfMemory(bytes: total ?? Int.max, device: info.description)
        }
        memset(pointer, 0, total)
        counter.allocation(bytes: total)
        return Buffer(count: count, dtype: dtype, deviceID: ObjectIdentifier(self), storage: .host(pointer))
    }

    public func write(_ values: UnsafeBufferPointer<Float>, to destination: BufferSlice) {
        checkWords(destination, count: values.count)
        guard let base = values.baseAddress, values.count > 0 else { return }
        counter.write(bytes: values.count * 4)
        destination.floats.update(from: base, count: values.count)
    }

    public func write(_ values: UnsafeBufferPointer<Int32>, to destination: BufferSlice) {
        checkWords(destination, count: values.count)
        guard let base = values.baseAddress, values.count > 0 else { return }
        counter.write(bytes: values.count * 4)
        destination.ints.update(from: base, count: values.count)
    }

    public func write(_ bytes: UnsafeRawBufferPointer, to destination: BufferSlice) {
        checkBytes(destination, byteCount: bytes.count)
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        counter.write(bytes: bytes.count)
        destination.bytes.copyMemory(from: base, byteCount: bytes.count)
    }

    public func read(_ source: BufferSlice, into values: UnsafeMutableBufferPointer<Float>) {
        checkWords(source, count: values.count)
        guard let base = values.baseAddress, values.count > 0 else { return }
        counter.read(bytes: values.count * 4)
        base.update(from: source.floats, count: values.count)
    }

    public func read(_ source: BufferSlice, into values: UnsafeMutableBufferPointer<Int32>) {
        checkWords(source, count: values.count)
        guard let base = values.baseAddress, values.count > 0 else { return }
        counter.read(bytes: values.count * 4)
        base.update(from: source.ints, count: values.count)
    }

    public func read(_ source: BufferSlice, into bytes: UnsafeMutableRawBufferPointer) {
        checkBytes(source, byteCount: bytes.count)
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        counter.read(bytes: bytes.count)
        base.copyMemory(from: source.bytes, byteCount: bytes.count)
    }

    public func copy(_ source: BufferSlice, to destination: BufferSlice) {
        check(source, count: destination.count)
        check(destination, count: source.count)
        precondition(source.buffer.dtype.size == destination.buffer.dtype.size, "copy between \(source.buffer.dtype) and \(destination.buffer.dtype) views")
        destination.bytes.copyMemory(from: source.bytes, byteCount: source.byteCount)
    }

    public func fill(_ destination: BufferSlice, with value: Float) {
        checkWords(destination, count: destination.count)
        let y = destination.floats
        Parallel.chunks(destination.count) { range in
            for i in range { y[i] = value }
        }
    }

    /// Nothing to wait for (work runs synchronously); counted in ``activity`` like any wait.
    public func synchronize() { counter.synchronization() }

    /// Checks that a view belongs to this device and holds `count` elements.
    @inline(__always)
    func check(_ slice: BufferSlice, count: Int) {
        precondition(slice.buffer.deviceID == ObjectIdentifier(self), "buffer from another device")
        precondition(slice.count == count, "view of \(slice.count) elements where \(count) are needed")
    }

    /// ``check(_:count:)`` for a transfer of 32-bit values (floats or integers): the view's type must be 4 bytes wide.
    private func checkWords(_ slice: BufferSlice, count: Int) {
        precondition(slice.buffer.dtype.size == 4, "a 32-bit transfer with a \(slice.buffer.dtype) view")
        check(slice, count: count)
    }

    /// Checks a raw transfer of `byteCount` bytes: the view's device, and its size in bytes.
    private func checkBytes(_ slice: BufferSlice, byteCount: Int) {
        precondition(slice.buffer.deviceID == ObjectIdentifier(self), "buffer from another device")
        precondition(slice.byteCount == byteCount, "\(byteCount) bytes for a view of \(slice.count) \(slice.buffer.dtype) elements (\(slice.byteCount) bytes)")
    }

    private static func processorName() -> String {
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let colon = line.firstIndex(of: ":") {
            return "CPU: " + line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return "CPU"
    }

    private static func blasVersion() -> String {
        guard let config = openblas_get_config() else { return "OpenBLAS" }
        return String(cString: config)
    }
}
