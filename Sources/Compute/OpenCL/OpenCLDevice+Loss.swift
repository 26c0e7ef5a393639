extension OpenCLDevice: LossPrimitives {
    /// Work-group size of the row reductions: `LOSS_WG` in `Kernels/loss.cl`.
    static let lossGroup = 128

    public func reconstructionLoss(_ kind: ReconstructionLoss, prediction: BufferSlice, target: BufferSlice,
                                   rows: Int, cols: Int, perRow: BufferSlice, gradient: BufferSlice?,
                                   gradientScale: Float) {
        precondition(prediction.count == rows * cols && target.count == rows * cols && perRow.count == rows,
                     "reconstructionLoss operand sizes")
        if let gradient { precondition(gradient.count == rows * cols, "reconstructionLoss gradient size") }
        launch("loss_reconstruction", global: [rows * Self.lossGroup], local: [Self.lossGroup], [
            .buffer(prediction), .buffer(target), .buffer(perRow), optional(gradient), .int(rows), .int(cols),
            .int(Int(kind.rawValue)), .int(gradient == nil ? 0 : 1), .float(gradientScale),
        ])
    }

    public func l1Penalty(_ x: BufferSlice, rows: Int, cols: Int, lambda: Float, perRow: BufferSlice,
                          gradient: BufferSlice?, gradientScale: Float) {
        precondition(x.count == rows * cols && perRow.count == rows, "l1Penalty operand sizes")
        if let gradient { precondition(gradient.count == rows * cols, "l1Penalty gradient size") }
        launch("loss_l1", global: [rows * Self.lossGroup], local: [Self.lossGroup], [
            .buffer(x), .buffer(perRow), optional(gradient), .int(rows), .int(cols), .float(lambda),
            .int(gradient == nil ? 0 : 1), .float(gradientScale * lambda),
        ])
    }
}
