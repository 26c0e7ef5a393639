import Foundation

/// A device buffer grown on demand and then reused, for intermediate results passed between the kernels of
/// one primitive (the split-K partial products of ``OpenCLDevice/gemm(_:transposeA:_:transposeB:into:m:n:k:alpha:beta:bias:activation:)``),
/// so that repeated calls with the same shapes allocate nothing after the first.
///
/// Hold ``lock`` from before ``slice(count:on:)`` until the last kernel reading the contents is enqueued, so that
/// concurrent callers never interleave their writes (the queue is in order, so enqueued is enough).
final class ScratchBuffer {
    /// Guards the buffer and its contents.
    let lock = NSLock()
    private var buffer: Buffer?

    /// The first `count` elements, on a larger buffer when the current one is too small; nil when that
    /// allocation fails. Call with ``lock`` held.
    func slice(count: Int, on device: OpenCLDevice) -> BufferSlice? {
        if let buffer, buffer.count >= count { return buffer.slice(0, count) }
        buffer = nil
        buffer = try? device.makeBuffer(count: count, dtype: .float32)
        return buffer?.slice(0, count)
    }

    /// Lets the buffer go (work already queued on it completes first, as OpenCL defers the release).
    func release() {
        lock.lock()
        defer { lock.unlock() }
        buffer = nil
    }
}
