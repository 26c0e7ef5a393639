/// A reconstruction loss, summed over the features of each sample.
public enum ReconstructionLoss: Int32, Sendable {
    /// Binary cross-entropy on logits: max(x,0) − x·t + log(1 + e^{−|x|}); gradient σ(x) − t.
    case bceWithLogits = 0
    /// Binary cross-entropy on probabilities, logs clamped at −100 as PyTorch does:
    /// −(t·max(log p, −100) + (1 − t)·max(log(1 − p), −100)); gradient (p − t) / max(p(1 − p), 10⁻¹²).
    case bce = 1
    /// Squared error (x − t)²; gradient 2(x − t).
    case mse = 2
}

/// Loss terms with their gradients.
public protocol LossPrimitives {
    /// For a rows×cols prediction and target, writes each row's summed loss into `perRow` (rows) and,
    /// when `gradient` is given, gradientScale·∂loss/∂prediction into it (overwritten).
    /// Each row is summed in a fixed order, so the result is deterministic on every backend.
    func reconstructionLoss(_ kind: ReconstructionLoss, prediction: BufferSlice, target: BufferSlice,
                            rows: Int, cols: Int, perRow: BufferSlice, gradient: BufferSlice?,
                            gradientScale: Float)
    /// L1 penalty λ·Σ|x| per row into `perRow`; adds gradientScale·λ·sign(x) to `gradient` when given
    /// (sign(0) = 0).
    func l1Penalty(_ x: BufferSlice, rows: Int, cols: Int, lambda: Float, perRow: BufferSlice,
                   gradient: BufferSlice?, gradientScale: Float)
}
