/// Vector-quantizer primitives over a codebook of K vectors of dimension D.
public protocol QuantizationPrimitives {
    /// codes[i] = argmin_k ‖z_i − e_k‖² for z (n×d) and codebook (k×d); ties go to the lower index.
    /// `codes` is an `int32` view; `distances`, when given, receives the minimum squared distances
    /// Σⱼ (z_ij − e_kj)² computed directly for the chosen code. Codes whose distance is NaN are never chosen;
    /// a row with no finite distance gets code 0 (and distance +∞ or NaN).
    func nearestCode(_ z: BufferSlice, codebook: BufferSlice, n: Int, k: Int, d: Int,
                     codes: BufferSlice, distances: BufferSlice?)
    /// y[k, :] (+)= Σ_{i: indices[i] = k} x[i, :] for x (n×cols) and y (rows×cols); also counts[k] (+)= the
    /// number of such i when `counts` (a float view of `rows` elements, ready for EMA arithmetic) is given.
    /// `indices` is an `int32` view of n elements; an index outside 0..<rows contributes nothing.
    /// Sums run in increasing i, so results are the same on every run. Adds when `accumulate`, else overwrites.
    func scatterAddRows(_ x: BufferSlice, indices: BufferSlice, n: Int, cols: Int, into y: BufferSlice,
                        rows: Int, counts: BufferSlice?, accumulate: Bool)
}
