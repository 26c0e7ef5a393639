import COpenCL
import Foundation

/// The element type of a ``Buffer``. Every supported type is four bytes wide.
public enum DType: String, Sendable {
    case float32
    case int32
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
