/// Products with row-sparse matrices: a rows×cols matrix held dense with at most `capacity` non-zero entries per
/// row (a top-k code) is first compacted — per row `capacity` column indices (`int32`) and their values, unused
/// slots index 0 with value 0 — and the products then touch those entries only: k/cols of the work of a GEMM on
/// the dense form. The tables the entries select are row-major with `width` columns, so each selected row is read
/// or written whole and in order.
///
/// An optional family: the CPU backend offers it; on a device without it, callers use GEMM on the dense form.
/// Every sum runs in a fixed order, so results are deterministic.
public protocol SparseRowPrimitives {
    /// Writes each row's non-zero entries of the rows×cols matrix `z`, in column order, into `indices` and
    /// `values` (rows × capacity); a row with more than `capacity` keeps its first.
    func compactRows(_ z: BufferSlice, rows: Int, cols: Int, capacity: Int, indices: BufferSlice, values: BufferSlice)

    /// y[r, :] = α·Σ_t values[r, t]·table[indices[r, t], :] + β·y[r, :] for a rows×width `y` (β = 0 ignores its
    /// old contents).
    func gatheredRowsProduct(indices: BufferSlice, values: BufferSlice, rows: Int, capacity: Int, table: BufferSlice,
                             width: Int, into y: BufferSlice, alpha: Float, beta: Float)

    /// dots[r, t] = x[r, :]·table[indices[r, t], :] where values[r, t] ≠ 0, else 0 (rows × capacity): the
    /// gradient of the product's entries.
    func gatheredRowsDots(_ x: BufferSlice, indices: BufferSlice, values: BufferSlice, rows: Int, capacity: Int,
                          table: BufferSlice, width: Int, into dots: BufferSlice)

    /// table[indices[r, t], :] += values[r, t]·x[r, :] for a rows×width `x` and a tableRows×width `table`, and
    /// bias[indices[r, t]] += values[r, t] when `bias` is given: the transposed product's gradient.
    func scatteredRowsProduct(indices: BufferSlice, values: BufferSlice, rows: Int, capacity: Int, x: BufferSlice,
                              width: Int, into table: BufferSlice, tableRows: Int, bias: BufferSlice?)

    /// The dense rows×cols form of compacted rows: z[r, indices[r, t]] (+)= values[r, t], added to `z` when
    /// `accumulate`, else written over zeros.
    func expandRows(indices: BufferSlice, values: BufferSlice, rows: Int, capacity: Int, cols: Int, into z: BufferSlice,
                    accumulate: Bool)

    /// b = aᵀ for a rows×cols `a` (b is cols×rows), or b += aᵀ when `accumulate`.
    func transpose(_ a: BufferSlice, rows: Int, cols: Int, into b: BufferSlice, accumulate: Bool)
}
