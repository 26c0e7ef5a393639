extension OpenCLDevice: TensorPrimitives {
    public func affine(_ x: BufferSlice, scale: Float, shift: Float, into y: BufferSlice) {
        precondition(x.count == y.count, "affine operand sizes")
        launch("tensor_affine", global: [x.count], [.buffer(x), .buffer(y), .int(x.count), .float(scale), .float(shift)])
    }

    public func thresholdMask(_ x: BufferSlice, threshold: Float, into y: BufferSlice) {
        precondition(x.count == y.count, "thresholdMask operand sizes")
        launch("tensor_threshold_mask", global: [x.count], [.buffer(x), .buffer(y), .int(x.count), .float(threshold)])
    }

    public func scaleRows(_ x: BufferSlice, by s: BufferSlice, rows: Int, cols: Int, divide: Bool, into y: BufferSlice,
                          accumulate: Bool) {
        precondition(x.count == rows * cols && y.count == rows * cols && s.count == rows, "scaleRows operand sizes")
        launch("tensor_scale_rows", global: [rows * cols], [
            .buffer(x), .buffer(s), .buffer(y), .int(rows), .int(cols), .int(divide ? 1 : 0), .int(accumulate ? 1 : 0),
        ])
    }
}
