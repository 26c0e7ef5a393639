extension OpenCLDevice: QuantizationPrimitives {
    public func nearestCode(_ z: BufferSlice, codebook: BufferSlice, n: Int, k: Int, d: Int,
                            codes: BufferSlice, distances: BufferSlice?) {
        precondition(z.count == n * d && codebook.count == k * d && codes.count == n, "nearestCode operand sizes")
        precondition(codes.buffer.dtype == .int32, "nearestCode codes are int32")
        if let distances { precondition(distances.count == n, "nearestCode distances size") }
        precondition(k >= 1, "nearestCode needs a codebook of at least one vector")
        launch("nearest_code", global: [n], local: [Self.elementGroup], [
            .buffer(z), .buffer(codebook), .buffer(codes), optional(distances), .int(distances == nil ? 0 : 1),
            .int(n), .int(k), .int(d),
        ])
    }

    public func scatterAddRows(_ x: BufferSlice, indices: BufferSlice, n: Int, cols: Int, into y: BufferSlice,
                               rows: Int, counts: BufferSlice?, accumulate: Bool) {
        precondition(x.count == n * cols && indices.count == n && y.count == rows * cols, "scatterAddRows operand sizes")
        precondition(indices.buffer.dtype == .int32, "scatterAddRows indices are int32")
        if let counts { precondition(counts.count == rows, "scatterAddRows counts size") }
        launch("scatter_add_rows", global: [max(cols, 1), rows], local: [Self.elementGroup, 1], [
            .buffer(x), .buffer(indices), .buffer(y), optional(counts), .int(counts == nil ? 0 : 1),
            .int(n), .int(cols), .int(accumulate ? 1 : 0),
        ])
    }
}
