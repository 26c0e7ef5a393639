import Compute

/// Stochastic gradient descent, as `torch.optim.SGD` computes it:
///
///     g ← s·g + λ·θ;  buf ← μ·buf + g (buf = g on the first step);  θ ← θ − lr·buf
///
/// (without momentum θ ← θ − lr·g), where s is the clipping scale when ``clipping`` is set.
public final class SGD: Optimizer {
    public var learningRate: Float
    /// μ.
    public let momentum: Float
    /// λ, the L2 weight decay added to the gradient.
    public var weightDecay: Float
    /// Global gradient-norm clipping; nil for none.
    public let clipping: GradientClipping?
    /// The momentum buffer (nil without momentum), for checkpoints.
    public let velocity: BufferSlice?
    /// Updates taken so far.
    public var stepCount = 0
    private let storage: Buffer?

    /// An SGD optimizer for `store`'s parameters.
    public init(store: ParameterStore, learningRate: Float, momentum: Float = 0, weightDecay: Float = 0,
                maxGradientNorm: Float? = nil) throws {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        if momentum != 0 {
            let buffer = try store.device.makeBuffer(count: max(store.parameterCount, 1), dtype: .float32)
            storage = buffer
            velocity = buffer.slice(0, store.parameterCount)
        } else {
            storage = nil
            velocity = nil
        }
        clipping = try maxGradientNorm.map { try GradientClipping(maxNorm: $0, device: store.device) }
    }

    public func step(store: ParameterStore) {
        if let velocity { precondition(velocity.count == store.parameterCount, "SGD: the store does not match") }
        guard store.parameterCount > 0 else { return }
        stepCount += 1
        let scale = clipping?.scale(for: store.gradients, device: store.device)
        store.device.sgdUpdate(parameters: store.values, gradients: store.gradients, velocity: velocity,
                               learningRate: learningRate, momentum: momentum, weightDecay: weightDecay,
                               gradientScale: scale)
    }

    /// The momentum buffer as `momentum_buffer` (none without momentum).
    public var stateTensors: [(name: String, values: BufferSlice)] { velocity.map { [("momentum_buffer", $0)] } ?? [] }
}
