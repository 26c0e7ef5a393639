import Foundation

/// Element-wise loss terms and their derivatives on the CPU, matching `Kernels/loss.cl`.
enum LossMath {
    /// Binary cross-entropy on a probability p, each log clamped at −100 as PyTorch does:
    /// (−t·max(log p, −100) − (1 − t)·max(log(1 − p), −100), (p − t) / max(p(1 − p), 10⁻¹²)).
    @inline(__always)
    static func bce(_ p: Float, _ t: Float) -> (Float, Float) {
        let logP = max(logf(p), -100), logQ = max(log1pf(-p), -100)
        return (-(t * logP + (1 - t) * logQ), (p - t) / max(p * (1 - p), 1e-12))
    }
}
