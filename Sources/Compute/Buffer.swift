import COpenCL
import Foundation

/// The element type of a ``Buffer``.
///
/// Primitives compute in `float32` (and take `int32` indices); `uint8` and `float16` are storage types, which a
/// data set can be kept in on the device and which
/// ``ReductionPrimitives/gatherRows(_:indices:cols:scale:shift:into:)`` converts to `float32` as it gathers a batch.
public enum DType: String, Sendable, CaseIterable {
    /// IEEE 754 single precision.
    case float32
    /// Signed 32-bit integers.
    case int32
    /// Unsigned bytes (image pixels, say).
    case uint8
    /// IEEE 754 half precision, stored as its 16-bit pattern (little-endian, like every element).
    case float16

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float32, .int32: 4
        case .float16: 2
        case .uint8: 1
        }
    }

    /// Bytes a device allocates for `count` elements: `count · size`, at least one element, rounded up to a
    /// multiple of four (so that every buffer can be zeroed as whole 32-bit words); nil when it overflows.
    func allocationBytes(count: Int) -> Int? {
        let (bytes, overflow) = max(count, 1).multipliedReportingOverflow(by: size)
        guard !overflow, bytes <= Int.max - 3 else { return nil }
        return (bytes + 3) / 4 * 4
    }
}

/// A block of device memory holding `count` elements of one ``DType``.
///
/// A buffer belongs to the device that made it; primitives read and write buffers through
/// ``BufferSlice`` views so that one allocation (a flat parameter buffer, say) can hold many tensors.
public final class Buffer {
    /// Where the bytes live.
    enum Storage {
        case host(UnsafeMutableRawPointer)
        case opencl(cl_mem)
    }

    /// Number of elements.
    public let count: Int
    /// Element type.
    public let dtype: DType
    /// Identity of the device that owns the memory (checked by primitives).
    let deviceID: ObjectIdentifier
    let storage: Storage

    init(count: Int, dtype: DType, deviceID: ObjectIdentifier, storage: Storage) {
        self.count = count
        self.dtype = dtype
        self.deviceID = deviceID
        self.storage = storage
    }

    deinit {
        switch storage {
        case .host(let pointer): free(pointer)
        case .opencl(let mem): _ = aek_clReleaseMemObject(mem)
        }
    }

    /// A view of the whole buffer.
    public var whole: BufferSlice { BufferSlice(buffer: self, offset: 0, count: count) }

    /// A view of `count` elements starting at element `offset`.
    public func slice(_ offset: Int, _ count: Int) -> BufferSlice {
        precondition(offset >= 0 && count >= 0 && offset + count <= self.count, "slice \(offset)..<\(offset + count) outside a buffer of \(self.count)")
        return BufferSlice(buffer: self, offset: offset, count: count)
    }
}

/// A contiguous range of elements inside a ``Buffer``: what every primitive takes as an operand.
public struct BufferSlice {
    /// The buffer viewed.
    public let buffer: Buffer
    /// First element, counted in elements from the start of the buffer.
    public let offset: Int
    /// Number of elements in view.
    public let count: Int

    /// A sub-range of this view.
    public func slice(_ offset: Int, _ count: Int) -> BufferSlice {
        precondition(offset >= 0 && count >= 0 && offset + count <= self.count, "slice \(offset)..<\(offset + count) outside a view of \(self.count)")
        return BufferSlice(buffer: buffer, offset: self.offset + offset, count: count)
    }

    /// Host pointer to the first element, whatever its type (CPU buffers only).
    var bytes: UnsafeMutableRawPointer {
        guard case .host(let base) = buffer.storage else { preconditionFailure("not a host buffer") }
        return base + offset * buffer.dtype.size
    }

    /// Bytes in view: `count` elements of the buffer's type.
    var byteCount: Int { count * buffer.dtype.size }

    /// Offset of the first element in bytes from the start of the buffer.
    var byteOffset: Int { offset * buffer.dtype.size }

    /// Host pointer to the first float (CPU buffers only).
    var floats: UnsafeMutablePointer<Float> {
        guard case .host(let base) = buffer.storage else { preconditionFailure("not a host buffer") }
        return base.assumingMemoryBound(to: Float.self) + offset
    }

    /// Host pointer to the first Int32 (CPU buffers only).
    var ints: UnsafeMutablePointer<Int32> {
        guard case .host(let base) = buffer.storage else { preconditionFailure("not a host buffer") }
        return base.assumingMemoryBound(to: Int32.self) + offset
    }

    /// The OpenCL memory object (OpenCL buffers only).
    var mem: cl_mem {
        guard case .opencl(let mem) = buffer.storage else { preconditionFailure("not an OpenCL buffer") }
        return mem
    }
}
