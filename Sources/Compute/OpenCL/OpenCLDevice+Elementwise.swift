extension OpenCLDevice: ElementwisePrimitives {
    /// Work-group size of the pointwise kernels.
    static let pointwiseGroup = 256
    /// Work-group size of `top_k_rows` (`TOPK_GROUP` in `Kernels/elementwise.cl`).
    static let topKGroup = 256

    public func activate(_ x: BufferSlice, into y: BufferSlice, activation: Activation) {
        precondition(x.count == y.count, "activate operand sizes")
        launch("activate", global: [x.count], local: [Self.pointwiseGroup], [
            .buffer(x), .buffer(y), .int(x.count), .int(Int(activation.code)), .float(activation.parameter),
        ])
    }

    public func activationBackward(_ dy: BufferSlice, input x: BufferSlice, output y: BufferSlice,
                                   into dx: BufferSlice, activation: Activation, accumulate: Bool) {
        precondition(dy.count == dx.count && x.count == dx.count && y.count == dx.count, "activationBackward operand sizes")
        launch("activation_backward", global: [dx.count], local: [Self.pointwiseGroup], [
            .buffer(dy), .buffer(x), .buffer(y), .buffer(dx), .int(dx.count),
            .int(Int(activation.code)), .float(activation.parameter), .int(accumulate ? 1 : 0),
        ])
    }

    public func axpby(alpha: Float, _ x: BufferSlice, beta: Float, _ y: BufferSlice) {
        precondition(x.count == y.count, "axpby operand sizes")
        launch("axpby", global: [y.count], local: [Self.pointwiseGroup], [
            .buffer(x), .buffer(y), .int(y.count), .float(alpha), .float(beta),
        ])
    }

    public func multiply(_ a: BufferSlice, _ b: BufferSlice, into c: BufferSlice) {
        precondition(a.count == c.count && b.count == c.count, "multiply operand sizes")
        launch("multiply", global: [c.count], local: [Self.pointwiseGroup], [
            .buffer(a), .buffer(b), .buffer(c), .int(c.count),
        ])
    }

    public func topK(_ x: BufferSlice, into y: BufferSlice, rows: Int, cols: Int, k: Int) {
        precondition(x.count == rows * cols && y.count == rows * cols, "topK operand sizes")
        if k >= cols {
            if x.buffer !== y.buffer || x.offset != y.offset { copy(x, to: y) }
        } else if k <= 0 {
            fill(y, with: 0)
        } else {
            launch("top_k_rows", global: [rows * Self.topKGroup], local: [Self.topKGroup], [
                .buffer(x), .buffer(y), .int(rows), .int(cols), .int(k),
            ])
        }
    }

    public func maskedGradient(_ dy: BufferSlice, mask: BufferSlice, into dx: BufferSlice) {
        precondition(dy.count == dx.count && mask.count == dx.count, "maskedGradient operand sizes")
        launch("masked_gradient", global: [dx.count], local: [Self.pointwiseGroup], [
            .buffer(dy), .buffer(mask), .buffer(dx), .int(dx.count),
        ])
    }
}
