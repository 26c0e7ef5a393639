/// Pointwise maps over views of equal length. Output may alias an input.
public protocol ElementwisePrimitives {
    /// y = act(x).
    func activate(_ x: BufferSlice, into y: BufferSlice, activation: Activation)
    /// dx = dy · act′(x), computed from the saved input `x` and output `y` of ``activate(_:into:activation:)``.
    /// Added to dx when `accumulate`.
    func activationBackward(_ dy: BufferSlice, input x: BufferSlice, output y: BufferSlice,
                            into dx: BufferSlice, activation: Activation, accumulate: Bool)
    /// y = α·x + β·y (β = 0 ignores y's old contents).
    func axpby(alpha: Float, _ x: BufferSlice, beta: Float, _ y: BufferSlice)
    /// c = a · b elementwise.
    func multiply(_ a: BufferSlice, _ b: BufferSlice, into c: BufferSlice)
    /// Keeps the `k` largest values of each row of a rows×cols matrix and zeroes the rest (top-k sparsity):
    /// y[i, j] = x[i, j] when fewer than k entries of row i rank above it, else 0, where x[i, a] ranks above
    /// x[i, b] when it is larger, or equal with a < b (ties go to the lower column index; −0 equals +0, NaN
    /// ranks above +∞). `k ≥ cols` keeps every value, `k ≤ 0` none. `y` may be `x`.
    func topK(_ x: BufferSlice, into y: BufferSlice, rows: Int, cols: Int, k: Int)
    /// dx = dy where `mask` ≠ 0, else 0 (the gradient of top-k and of dropout masks).
    func maskedGradient(_ dy: BufferSlice, mask: BufferSlice, into dx: BufferSlice)
}
