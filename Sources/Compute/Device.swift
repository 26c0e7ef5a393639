/// Which backend runs a device's primitives.
public enum DeviceKind: String, Sendable {
    /// OpenBLAS for products, vectorized Swift and C loops (`CPUKernels`) spread over all cores for the rest.
    case cpu
    /// An OpenCL device driven through the ICD loader, loaded at run time.
    case opencl
}

/// What a device is, as listed by `autoencoder devices`.
public struct DeviceInfo: Sendable, CustomStringConvertible {
    /// The backend.
    public var kind: DeviceKind
    /// Position among the OpenCL devices (the `N` of `opencl:N`); `nil` for the CPU backend.
    public var index: Int?
    /// Device name as the driver reports it.
    public var name: String
    /// Vendor name.
    public var vendor: String
    /// Driver (or library) version.
    public var driver: String
    /// Parallel compute units (cores for the CPU backend).
    public var computeUnits: Int
    /// Global memory in bytes.
    public var memoryBytes: Int
    /// True for an OpenCL device of type GPU.
    public var isGPU: Bool

    /// True when NVIDIA makes the device (its tiles, TF32 tensor cores and `-cl-nv-verbose` build logs apply).
    public var isNVIDIA: Bool { vendor.lowercased().contains("nvidia") }

    /// The string that selects this device on the command line (`cpu` or `opencl:N`).
    public var selector: String { index.map { "opencl:\($0)" } ?? "cpu" }

    public var description: String { "\(selector) (\(name))" }
}

/// The operations every device offers besides the compute primitives: memory and transfers.
///
/// Work is queued in order; ``synchronize()`` waits for all of it. Reads block until the data is there.
public protocol DeviceCore: AnyObject {
    /// What the device is.
    var info: DeviceInfo { get }
    /// Allocations, host transfers and waits since the device was opened (a snapshot; see ``DeviceActivity``).
    var activity: DeviceActivity { get }
    /// Allocates `count` zeroed elements of `dtype`: `count · dtype.size` bytes (at least one element, rounded up
    /// to a multiple of four), as ``DeviceActivity/allocatedBytes`` counts them.
    func makeBuffer(count: Int, dtype: DType) throws -> Buffer
    /// Copies host floats into a view of a 4-byte type (the view's count must equal `values.count`).
    func write(_ values: UnsafeBufferPointer<Float>, to destination: BufferSlice)
    /// Copies host integers into a view of a 4-byte type (an `int32` view).
    func write(_ values: UnsafeBufferPointer<Int32>, to destination: BufferSlice)
    /// Copies host bytes into a view of any type, unchanged: `bytes.count` must be the view's count times its
    /// type's ``DType/size`` (element storage is little-endian; `float16` elements are IEEE half bit patterns).
    func write(_ bytes: UnsafeRawBufferPointer, to destination: BufferSlice)
    /// Reads a view of a 4-byte type back to the host as floats, waiting for queued work.
    func read(_ source: BufferSlice, into values: UnsafeMutableBufferPointer<Float>)
    /// Reads an `int32` view back to the host, waiting for queued work.
    func read(_ source: BufferSlice, into values: UnsafeMutableBufferPointer<Int32>)
    /// Reads a view of any type back to the host as its stored bytes (`bytes.count` = count × ``DType/size``),
    /// waiting for queued work.
    func read(_ source: BufferSlice, into bytes: UnsafeMutableRawBufferPointer)
    /// Copies one view into another of the same length and element size on the device.
    func copy(_ source: BufferSlice, to destination: BufferSlice)
    /// Sets every element of a view of a 4-byte type to the float `value`.
    func fill(_ destination: BufferSlice, with value: Float)
    /// Waits until every queued primitive has finished.
    func synchronize()
    /// Waits for queued work, then throws the first device failure (a failed launch, memory exhausted)
    /// met since the last check. Primitives do not throw, so callers check at their read-back points.
    func checkHealth() throws
}

/// A compute device: the CPU backend or one OpenCL device, offering every primitive the layers need.
/// Each primitive family is a protocol of its own (files in `Primitives/`), implemented by both backends.
public typealias Device = DeviceCore
    & GEMMPrimitives
    & TensorPrimitives
    & RandomPrimitives
    & VAEPrimitives
    & LossPrimitives
    & OptimizerPrimitives
    & QuantizationPrimitives
    & NormalizationPrimitives
    & ConvolutionPrimitives
    & ElementwisePrimitives
    & ReductionPrimitives
    & PrecisionPrimitives

extension DeviceCore {
    public func checkHealth() throws { synchronize() }

    /// Allocates a float buffer holding `values`.
    public func makeBuffer(_ values: [Float]) throws -> Buffer {
        let buffer = try makeBuffer(count: values.count, dtype: .float32)
        values.withUnsafeBufferPointer { write($0, to: buffer.whole) }
        return buffer
    }

    /// Allocates an `int32` buffer holding `values`.
    public func makeBuffer(_ values: [Int32]) throws -> Buffer {
        let buffer = try makeBuffer(count: values.count, dtype: .int32)
        values.withUnsafeBufferPointer { write($0, to: buffer.whole) }
        return buffer
    }

    /// Allocates a buffer of `dtype` holding `bytes`, its elements' little-endian storage (`bytes.count` must be a
    /// whole number of elements), written as the byte-wise `write(_:to:)` writes.
    public func makeBuffer(bytes: [UInt8], dtype: DType) throws -> Buffer {
        precondition(bytes.count % dtype.size == 0, "\(bytes.count) bytes are not a whole number of \(dtype) elements")
        let buffer = try makeBuffer(count: bytes.count / dtype.size, dtype: dtype)
        bytes.withUnsafeBytes { write($0, to: buffer.whole) }
        return buffer
    }

    /// Writes an array into a view.
    public func write(_ values: [Float], to destination: BufferSlice) {
        values.withUnsafeBufferPointer { write($0, to: destination) }
    }

    /// Writes an array of integers into an `int32` view.
    public func write(_ values: [Int32], to destination: BufferSlice) {
        values.withUnsafeBufferPointer { write($0, to: destination) }
    }

    /// Reads a float view into a new array.
    public func read(_ source: BufferSlice) -> [Float] {
        [Float](unsafeUninitializedCapacity: source.count) { values, count in
            read(source, into: values)
            count = source.count
        }
    }

    /// Reads a view's stored bytes into a new array (count × ``DType/size`` bytes).
    public func readBytes(_ source: BufferSlice) -> [UInt8] {
        let byteCount = source.count * source.buffer.dtype.size
        return [UInt8](unsafeUninitializedCapacity: byteCount) { bytes, count in
            read(source, into: UnsafeMutableRawBufferPointer(bytes))
            count = byteCount
        }
    }

    /// Reads an `int32` view into a new array.
    public func readInts(_ source: BufferSlice) -> [Int32] {
        [Int32](unsafeUninitializedCapacity: source.count) { values, count in
            read(source, into: values)
            count = source.count
        }
    }
}
