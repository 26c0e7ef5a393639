extension OpenCLDevice: ReductionPrimitives {
    /// Work-group size of the 1-D reduction kernels (`RED_GROUP` in `Kernels/reduce.cl`).
    static let reductionGroup = 256
    /// Columns per work group of `reduce_rows` (`COL_TILE`).
    static let columnTile = 16
    /// Work items sharing one column in `reduce_rows` (`ROW_LANES`).
    static let rowLanes = 16
    /// Elements per work group below which a whole reduction adds no more groups.
    private static let elementsPerGroup = 4096
    /// Most work groups in the first pass of a whole reduction: the size of ``reductionPartials``.
    static let maxReductionGroups = 1024

    public func reduce(_ x: BufferSlice, rows: Int, cols: Int, axis: ReductionAxis, op: ReductionOp,
                       scale: Float, into y: BufferSlice, accumulate: Bool) {
        precondition(x.count == rows * cols, "reduce input size")
        let tail: [Argument] = [.int(Int(op.rawValue)), .float(scale), .int(accumulate ? 1 : 0)]
        switch axis {
        case .rows:
            precondition(y.count == cols, "reduce over rows needs cols outputs")
            launch("reduce_rows", global: [cols, Self.rowLanes], local: [Self.columnTile, Self.rowLanes],
                   [.buffer(x), .buffer(y), .int(rows), .int(cols)] + tail)
        case .columns:
            precondition(y.count == rows, "reduce over columns needs rows outputs")
            launch("reduce_columns", global: [Self.reductionGroup, rows], local: [Self.reductionGroup, 1],
                   [.buffer(x), .buffer(y), .int(rows), .int(cols)] + tail)
        case .all:
            precondition(y.count == 1, "reduce over everything needs one output")
            reduceAll(x, op: op, scale: scale, into: y, accumulate: accumulate)
        }
    }

    public func accumulateRowSums(_ x: BufferSlice, rows: Int, cols: Int, weights: [Float], into y: BufferSlice,
                                  total: BufferSlice) {
        precondition(rows <= maxWeightedRows && weights.count == rows, "accumulateRowSums takes one weight per row, at most 4")
        precondition(x.count == rows * cols && y.count == rows && total.count == 1, "accumulateRowSums operand sizes")
        let padded = weights + [Float](repeating: 0, count: maxWeightedRows - rows)
        launch("accumulate_row_sums", global: [Self.reductionGroup], local: [Self.reductionGroup],
               [.buffer(x), .buffer(y), .buffer(total), .int(rows), .int(cols)] + padded.map { .float($0) })
    }

    /// Whole-buffer reduction: one work group for short inputs, else per-group partials (grid-strided,
    /// at most ``maxReductionGroups``) reduced by a second single-group pass.
    private func reduceAll(_ x: BufferSlice, op: ReductionOp, scale: Float, into y: BufferSlice, accumulate: Bool) {
        let n = x.count
        let groups = min(Self.maxReductionGroups, (n + Self.elementsPerGroup - 1) / Self.elementsPerGroup)
        let tail: [Argument] = [.float(scale), .int(accumulate ? 1 : 0)]
        guard groups > 1 else {
            launch("reduce_all_final", global: [Self.reductionGroup], local: [Self.reductionGroup],
                   [.buffer(x), .buffer(y), .int(n), .int(Int(op.rawValue))] + tail)
            return
        }
        let partials = reductionPartials.slice(0, groups)
        let secondOp = op == .max ? ReductionOp.max : .sum
        reductionLock.lock()
        defer { reductionLock.unlock() }
        launch("reduce_all_partials", global: [groups * Self.reductionGroup], local: [Self.reductionGroup],
               [.buffer(x), .buffer(partials), .int(n), .int(Int(op.rawValue))])
        launch("reduce_all_final", global: [Self.reductionGroup], local: [Self.reductionGroup],
               [.buffer(partials), .buffer(y), .int(groups), .int(Int(secondOp.rawValue))] + tail)
    }
}
