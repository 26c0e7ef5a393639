/// Batch normalization over x laid out as [N, C, S] (S = 1 for BatchNorm1d on N×C, H·W for BatchNorm2d).
public protocol NormalizationPrimitives {
    /// Training: normalizes with the batch statistics, saves mean and 1/√(var+eps) per channel, and updates
    /// the running statistics with PyTorch's rule (unbiased variance, `momentum` weight on the new value).
    /// Evaluation (`training == false`): normalizes with the running statistics.
    /// y = γ·x̂ + β.
    func batchNormForward(_ x: BufferSlice, gamma: BufferSlice, beta: BufferSlice,
                          runningMean: BufferSlice, runningVar: BufferSlice,
                          savedMean: BufferSlice, savedInvStd: BufferSlice, into y: BufferSlice,
                          n: Int, channels: Int, spatial: Int, momentum: Float, epsilon: Float, training: Bool)
    /// Gradients of training-mode batch norm: dx (overwritten), dγ and dβ (added).
    func batchNormBackward(_ dy: BufferSlice, x: BufferSlice, gamma: BufferSlice,
                           savedMean: BufferSlice, savedInvStd: BufferSlice,
                           dx: BufferSlice, dgamma: BufferSlice, dbeta: BufferSlice,
                           n: Int, channels: Int, spatial: Int)
}
