/// Row gathers (`gather_rows*` in `Kernels/reduce.cl`): one work item per output element, groups of
/// ``reductionGroup``.
extension OpenCLDevice {
    public func gatherRows(_ x: BufferSlice, indices: BufferSlice, cols: Int, into y: BufferSlice) {
        precondition(indices.buffer.dtype == .int32, "gatherRows indices must be an int32 view")
        precondition(cols > 0 ? x.count % cols == 0 : x.count == 0, "gatherRows source is not a whole number of rows")
        precondition(y.count == indices.count * cols, "gatherRows output size")
        guard cols > 0 else { return }
        launch("gather_rows", global: [y.count], local: [Self.reductionGroup], [
            .buffer(x), .buffer(indices), .buffer(y), .int(x.count / cols), .int(cols), .int(indices.count),
        ])
    }

    public func gatherRows(_ x: BufferSlice, indices: BufferSlice, cols: Int, scale: Float, shift: Float,
                           into y: BufferSlice) {
        precondition(indices.buffer.dtype == .int32, "gatherRows indices must be an int32 view")
        precondition(y.buffer.dtype == .float32, "gatherRows converts into a float32 view, not \(y.buffer.dtype)")
        precondition(cols > 0 ? x.count % cols == 0 : x.count == 0, "gatherRows source is not a whole number of rows")
        precondition(y.count == indices.count * cols, "gatherRows output size")
        guard cols > 0 else { return }
        launch(Self.convertingGather(from: x.buffer.dtype), global: [y.count], local: [Self.reductionGroup], [
            .buffer(x), .buffer(indices), .buffer(y), .int(x.count / cols), .int(cols), .int(indices.count),
            .float(scale), .float(shift),
        ])
    }

    /// The kernel that gathers and converts rows stored as `dtype`.
    static func convertingGather(from dtype: DType) -> String {
        switch dtype {
        case .uint8: "gather_rows_convert_u8"
        case .float16: "gather_rows_convert_f16"
        case .float32: "gather_rows_convert_f32"
        case .int32: preconditionFailure("gatherRows converts uint8, float16 or float32 storage, not int32")
        }
    }
}
