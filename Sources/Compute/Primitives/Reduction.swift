/// Which axis of a rows×cols matrix a reduction removes.
public enum ReductionAxis: Sendable {
    /// Reduce down each column: the result has `cols` elements (a bias gradient).
    case rows
    /// Reduce along each row: the result has `rows` elements (a per-sample loss).
    case columns
    /// Reduce everything to one element.
    case all
}

/// What is summed.
public enum ReductionOp: Int32, Sendable {
    /// Σ x
    case sum = 0
    /// Σ x²
    case sumOfSquares = 1
    /// Σ |x|
    case sumOfAbs = 2
    /// max x
    case max = 3
}

/// Reductions and row gathers.
public protocol ReductionPrimitives {
    /// y = scale · reduce(x) along `axis` of the rows×cols matrix x; added to y when `accumulate`.
    /// Use `scale = 1/n` for a mean. `.max` ignores `accumulate`. An empty reduction gives 0 (−∞ for `.max`).
    ///
    /// Sums are blocked (CPU: float blocks added in double; OpenCL: compensated per-item sums combined in a
    /// work-group tree, two passes for `.all`), so a million-term sum keeps float accuracy, and the order of
    /// operations depends only on the shape: every call with the same input gives the same bits.
    func reduce(_ x: BufferSlice, rows: Int, cols: Int, axis: ReductionAxis, op: ReductionOp,
                scale: Float, into y: BufferSlice, accumulate: Bool)
    /// A training step's epoch-sum bookkeeping in one primitive. For the rows×cols matrix x (one loss term per
    /// row, one column per sample) adds each row's sum to y and their weighted total to `total` (one element):
    /// y[r] += Σ_j x[r, j] and total += Σ_r weights[r]·Σ_j x[r, j]. At most ``maxWeightedRows`` rows.
    /// Row sums are blocked as in ``reduce(_:rows:cols:axis:op:scale:into:accumulate:)``; deterministic.
    func accumulateRowSums(_ x: BufferSlice, rows: Int, cols: Int, weights: [Float], into y: BufferSlice,
                           total: BufferSlice)
    /// y[i, :] = x[indices[i], :] for a source with `cols` columns: how a batch is drawn from a
    /// device-resident data set. `indices` is an `int32` view; an index outside the source's rows gives a
    /// row of zeros.
    func gatherRows(_ x: BufferSlice, indices: BufferSlice, cols: Int, into y: BufferSlice)
    /// y[i, :] = Float(x[indices[i], :]) · scale + shift into a `float32` view, for a source stored as `uint8`,
    /// `float16` or `float32` with `cols` columns: how a batch is drawn from a data set kept on the device in its
    /// stored type (`uint8` images: scale 1/255, shift 0; `float16` as stored: scale 1, shift 0).
    ///
    /// Each element is converted exactly to `Float` (half subnormals, ±∞ and NaN included), then multiplied and
    /// added with two roundings, never one fused multiply-add, so every device gives the same bits. IEEE
    /// arithmetic applies to the result: a stored −0 comes out +0 when shift is 0 (−0 + 0 = +0), a NaN stays a
    /// NaN. That is why the plain ``gatherRows(_:indices:cols:into:)``, an exact copy, is kept for `float32`
    /// sources read as they are. `indices` is an `int32` view; an index outside the source's rows gives a row of
    /// zeros.
    func gatherRows(_ x: BufferSlice, indices: BufferSlice, cols: Int, scale: Float, shift: Float, into y: BufferSlice)
}

extension ReductionPrimitives {
    /// The most rows ``accumulateRowSums(_:rows:cols:weights:into:total:)`` takes (its weights travel as kernel
    /// arguments on OpenCL).
    public var maxWeightedRows: Int { 4 }
}
