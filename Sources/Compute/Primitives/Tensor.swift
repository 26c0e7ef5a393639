/// Small maps the models need beyond activations: affine maps, threshold masks and per-row scaling.
public protocol TensorPrimitives {
    /// y = scale·x + shift, elementwise (y may alias x).
    func affine(_ x: BufferSlice, scale: Float, shift: Float, into y: BufferSlice)
    /// y = 1 where x ≥ threshold, else 0 (free-bits masks, activity counts).
    func thresholdMask(_ x: BufferSlice, threshold: Float, into y: BufferSlice)
    /// y[i, :] (+)= x[i, :] · s[i] — or x[i, :] / s[i] when `divide` — for a rows×cols matrix and an s of
    /// `rows` elements; added to y when `accumulate` (y may alias x when not accumulating).
    func scaleRows(_ x: BufferSlice, by s: BufferSlice, rows: Int, cols: Int, divide: Bool, into y: BufferSlice,
                   accumulate: Bool)
}
