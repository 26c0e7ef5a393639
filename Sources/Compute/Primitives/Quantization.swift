/// Vector-quantizer primitives over a codebook of K vectors of dimension D.
public protocol QuantizationPrimitives {
    /// codes[i] = argmin_k ‖z_i − e_k‖² for z (n×d) and codebook (k×d); ties go to the lower index.
    /// `codes` is an `int32` view; `distances`, when given, receives the minimum squared distances.
    func nearestCode(_ z: BufferSlice, codebook: BufferSlice, n: Int, k: Int, d: Int,
                     codes: BufferSlice, distances: BufferSlice?)
    /// y[k, :] (+)= Σ_{i: indices[i] = k} x[i, :] for x (n×cols) and y (rows×cols); also counts[k] (+)= the
    /// number of such i when `counts` is given. Deterministic order. Adds when `accumulate`.
    func scatterAddRows(_ x: BufferSlice, indices: BufferSlice, n: Int, cols: Int, into y: BufferSlice,
                        rows: Int, counts: BufferSlice?, accumulate: Bool)
}
