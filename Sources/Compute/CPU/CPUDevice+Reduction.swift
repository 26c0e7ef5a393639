extension CPUDevice: ReductionPrimitives {
    public func reduce(_ x: BufferSlice, rows: Int, cols: Int, axis: ReductionAxis, op: ReductionOp,
                       scale: Float, into y: BufferSlice, accumulate: Bool) {
        check(x, count: rows * cols)
        let xv = x.floats, yv = y.floats
        switch axis {
        case .rows:
            check(y, count: cols)
            let tiles = (cols + ReductionMath.columnTile - 1) / ReductionMath.columnTile
            Parallel.forEach(tiles, costPerItem: rows * ReductionMath.columnTile) { tile in
                let first = tile * ReductionMath.columnTile
                ReductionMath.columns(xv + first, rows: rows, width: min(ReductionMath.columnTile, cols - first),
                                      stride: cols, op: op, scale: scale, into: yv + first, accumulate: accumulate)
            }
        case .columns:
            check(y, count: rows)
            Parallel.forEach(rows, costPerItem: cols) { row in
                ReductionMath.store(ReductionMath.contiguous(xv + row * cols, count: cols, op: op), op: op,
                                    scale: scale, into: yv + row, accumulate: accumulate)
            }
        case .all:
            check(y, count: 1)
            ReductionMath.store(ReductionMath.all(xv, count: rows * cols, op: op), op: op, scale: scale,
                                into: yv, accumulate: accumulate)
        }
    }

    public func accumulateRowSums(_ x: BufferSlice, rows: Int, cols: Int, weights: [Float], into y: BufferSlice,
                                  total: BufferSlice) {
        precondition(rows <= maxWeightedRows && weights.count == rows, "accumulateRowSums takes one weight per row, at most 4")
        check(x, count: rows * cols)
        check(y, count: rows)
        check(total, count: 1)
        let xv = x.floats, yv = y.floats
        var weighted: Float = 0
        for r in 0..<rows {
            let sum = Float(ReductionMath.all(xv + r * cols, count: cols, op: .sum))
            yv[r] += sum
            weighted += weights[r] * sum
        }
        total.floats.pointee += weighted
    }
}

/// The loops behind ``CPUDevice``'s reductions.
///
/// Sums are formed in blocks: at most ``block`` terms are added in `Float` (over eight independent lanes),
/// and the block sums are added in `Double`, so a long reduction keeps nearly full `Float` accuracy at the
/// speed of a vectorized float loop. The blocking depends only on the shape, never on the core count, so
/// every call gives the same bits.
enum ReductionMath {
    /// Terms added in `Float` before a block's sum joins the `Double` total.
    static let block = 1024
    /// Elements per parallel part of a whole-buffer reduction (a multiple of ``block``).
    static let part = 65_536
    /// Columns reduced together by one task of a reduction over rows.
    static let columnTile = 256
    /// Rows folded in `Float` before a column's partial joins its `Double` total.
    static let rowBlock = 128

    /// Σ op(x[i]) over `count` contiguous elements (the max for `.max`), in parallel parts for long inputs.
    static func all(_ x: UnsafePointer<Float>, count: Int, op: ReductionOp) -> Double {
        let parts = (count + part - 1) / part
        guard parts > 1 else { return contiguous(x, count: count, op: op) }
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: parts) { partials in
            let results = partials.baseAddress!
            Parallel.forEach(parts, costPerItem: part) { p in
                results[p] = contiguous(x + p * part, count: min(part, count - p * part), op: op)
            }
            var total = results[0]
            for p in 1..<parts { total = combine(total, results[p], op) }
            return total
        }
    }

    /// Σ op(x[i]) over `count` contiguous elements, one block at a time (the max for `.max`).
    static func contiguous(_ x: UnsafePointer<Float>, count: Int, op: ReductionOp) -> Double {
        var total = identity(op)
        var start = 0
        while start < count {
            let length = min(block, count - start)
            total = combine(total, Double(blockFold(x + start, count: length, op: op)), op)
            start += length
        }
        return total
    }

    /// Reduces a rows×width column tile whose rows are `stride` elements apart, writing `width` results.
    static func columns(_ x: UnsafePointer<Float>, rows: Int, width: Int, stride: Int, op: ReductionOp,
                        scale: Float, into y: UnsafeMutablePointer<Float>, accumulate: Bool) {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: width) { totalBuffer in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: width) { partialBuffer in
                let total = totalBuffer.baseAddress!, partial = partialBuffer.baseAddress!
                total.initialize(repeating: identity(op), count: width)
                var first = 0
                while first < rows {
                    let last = min(rows, first + rowBlock)
                    partial.initialize(repeating: Float(identity(op)), count: width)
                    for row in first..<last { foldRow(x + row * stride, into: partial, width: width, op: op) }
                    for j in 0..<width { total[j] = combine(total[j], Double(partial[j]), op) }
                    first = last
                }
                for j in 0..<width { store(total[j], op: op, scale: scale, into: y + j, accumulate: accumulate) }
            }
        }
    }

    /// y = scale · r, added to y for the sums when `accumulate`.
    @inline(__always)
    static func store(_ r: Double, op: ReductionOp, scale: Float, into y: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let v = Float(Double(scale) * r)
        y.pointee = accumulate && op != .max ? y.pointee + v : v
    }

    @inline(__always)
    static func identity(_ op: ReductionOp) -> Double { op == .max ? -.infinity : 0 }

    @inline(__always)
    static func combine(_ a: Double, _ b: Double, _ op: ReductionOp) -> Double {
        op == .max ? (b > a ? b : a) : a + b
    }

    /// One block: op(x[i]) folded in `Float` over eight lanes.
    private static func blockFold(_ x: UnsafePointer<Float>, count: Int, op: ReductionOp) -> Float {
        switch op {
        case .sum: return lanes(x, count, 0, { $0 }, +)
        case .sumOfSquares: return lanes(x, count, 0, { $0 * $0 }, +)
        case .sumOfAbs: return lanes(x, count, 0, { abs($0) }, +)
        case .max: return lanes(x, count, -.infinity, { $0 }, { a, b in b > a ? b : a })
        }
    }

    @inline(__always)
    private static func lanes(_ x: UnsafePointer<Float>, _ count: Int, _ start: Float,
                              _ map: (Float) -> Float, _ fold: (Float, Float) -> Float) -> Float {
        var a0 = start, a1 = start, a2 = start, a3 = start, a4 = start, a5 = start, a6 = start, a7 = start
        var i = 0
        while i + 8 <= count {
            a0 = fold(a0, map(x[i]))
            a1 = fold(a1, map(x[i + 1]))
            a2 = fold(a2, map(x[i + 2]))
            a3 = fold(a3, map(x[i + 3]))
            a4 = fold(a4, map(x[i + 4]))
            a5 = fold(a5, map(x[i + 5]))
            a6 = fold(a6, map(x[i + 6]))
            a7 = fold(a7, map(x[i + 7]))
            i += 8
        }
        while i < count {
            a0 = fold(a0, map(x[i]))
            i += 1
        }
        return fold(fold(fold(a0, a1), fold(a2, a3)), fold(fold(a4, a5), fold(a6, a7)))
    }

    /// partial[j] ⊕= op(row[j]) for one row of a column tile.
    @inline(__always)
    private static func foldRow(_ row: UnsafePointer<Float>, into partial: UnsafeMutablePointer<Float>, width: Int,
                                op: ReductionOp) {
        switch op {
        case .sum: for j in 0..<width { partial[j] += row[j] }
        case .sumOfSquares: for j in 0..<width { partial[j] += row[j] * row[j] }
        case .sumOfAbs: for j in 0..<width { partial[j] += abs(row[j]) }
        case .max: for j in 0..<width { partial[j] = row[j] > partial[j] ? row[j] : partial[j] }
        }
    }
}
