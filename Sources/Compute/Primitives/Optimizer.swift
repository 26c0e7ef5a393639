/// Hyper-parameters of an Adam or AdamW step.
public struct AdamParameters: Equatable, Sendable {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    /// AdamW: decay the weights directly (θ −= lr·λ·θ) instead of adding λ·θ to the gradient.
    public var decoupled: Bool

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, decoupled: Bool = false) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupled = decoupled
    }
}

/// Fused optimizer updates over one flat parameter buffer, as PyTorch's `torch.optim` computes them.
///
/// `gradientScale`, when given, is a one-element view whose value multiplies every gradient first
/// (see ``clipScale(squaredNorm:maxNorm:into:)``), so clipping needs no read-back.
public protocol OptimizerPrimitives {
    /// One Adam/AdamW step; `step` counts from 1 (bias correction).
    func adamUpdate(parameters: BufferSlice, gradients: BufferSlice, m: BufferSlice, v: BufferSlice,
                    step: Int, hyper: AdamParameters, gradientScale: BufferSlice?)
    /// One SGD step with optional momentum (PyTorch's: buf = μ·buf + g; θ −= lr·buf) and L2 weight decay.
    func sgdUpdate(parameters: BufferSlice, gradients: BufferSlice, velocity: BufferSlice?,
                   learningRate: Float, momentum: Float, weightDecay: Float, gradientScale: BufferSlice?)
    /// scale = min(1, maxNorm / (√squaredNorm + 1e-6)) into a one-element view.
    func clipScale(squaredNorm: BufferSlice, maxNorm: Float, into scale: BufferSlice)
}
