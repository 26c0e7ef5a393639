/// Batch normalization over x laid out as [N, C, S] (S = 1 for BatchNorm1d on N×C, H·W for BatchNorm2d).
public protocol NormalizationPrimitives {
    /// Training: normalizes with the batch statistics, saves mean and 1/√(var+eps) per channel, and updates
    /// the running statistics with PyTorch's rule (unbiased variance, `momentum` weight on the new value).
    /// Evaluation (`training == false`): normalizes with the running statistics.
    /// y = γ·x̂ + β.
    ///
    /// With M = n·spatial values per channel c, in training:
    ///
    ///     μ = (1/M) Σ x,   σ² = (1/M) Σ (x − μ)²,   x̂ = (x − μ) / √(σ² + ε)
    ///     savedMean = μ,   savedInvStd = 1/√(σ² + ε)
    ///     runningMean ← (1 − momentum)·runningMean + momentum·μ
    ///     runningVar  ← (1 − momentum)·runningVar  + momentum·σ²·M/(M − 1)
    ///
    /// (M/max(M − 1, 1) when M = 1, where PyTorch refuses to train). In evaluation
    /// x̂ = (x − runningMean)/√(runningVar + ε), and the running and saved statistics are left as they are.
    /// γ, β and the four statistics views hold `channels` elements; training needs n·spatial ≥ 1.
    func batchNormForward(_ x: BufferSlice, gamma: BufferSlice, beta: BufferSlice,
                          runningMean: BufferSlice, runningVar: BufferSlice,
                          savedMean: BufferSlice, savedInvStd: BufferSlice, into y: BufferSlice,
                          n: Int, channels: Int, spatial: Int, momentum: Float, epsilon: Float, training: Bool)
    /// Gradients of training-mode batch norm: dx (overwritten), dγ and dβ (added). Per channel, with
    /// x̂ = (x − savedMean)·savedInvStd and sums over the channel's M = n·spatial values:
    ///
    ///     dβ += Σ dy,   dγ += Σ dy·x̂
    ///     dx  = γ·savedInvStd · (dy − (1/M) Σ dy − x̂·(1/M) Σ dy·x̂)
    func batchNormBackward(_ dy: BufferSlice, x: BufferSlice, gamma: BufferSlice,
                           savedMean: BufferSlice, savedInvStd: BufferSlice,
                           dx: BufferSlice, dgamma: BufferSlice, dbeta: BufferSlice,
                           n: Int, channels: Int, spatial: Int)
}
