import Compute

/// Adam (Kingma & Ba), as `torch.optim.Adam` computes it, over one flat parameter buffer:
///
///     g ← s·g (+ λ·θ unless decoupled)
///     m ← β₁·m + (1−β₁)·g,  v ← β₂·v + (1−β₂)·g²
///     θ ← θ − lr·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)   (AdamW first decays θ ← θ − lr·λ·θ)
///
/// where s is the clipping scale when ``clipping`` is set, else 1. The moments are allocated once, at
/// init, and exposed as ``stateTensors`` with ``stepCount`` for checkpoints and resuming.
public class Adam: Optimizer {
    /// All hyper-parameters (learning rate, betas, ε, weight decay, decoupling).
    public var hyper: AdamParameters
    /// Global gradient-norm clipping, applied on the device before every update; nil for none.
    public let clipping: GradientClipping?
    /// First moments m, one per parameter (the store's layout).
    public let m: BufferSlice
    /// Second moments v, one per parameter.
    public let v: BufferSlice
    /// Updates taken so far (t of the last step); set it when resuming from a checkpoint.
    public var stepCount = 0
    private let storage: [Buffer]

    public var learningRate: Float {
        get { hyper.learningRate }
        set { hyper.learningRate = newValue }
    }

    /// An Adam optimizer for `store`'s parameters; `maxGradientNorm` turns on gradient clipping.
    public init(store: ParameterStore, hyper: AdamParameters = AdamParameters(), maxGradientNorm: Float? = nil) throws {
        self.hyper = hyper
        let count = store.parameterCount
        let mBuffer = try store.device.makeBuffer(count: max(count, 1), dtype: .float32)
        let vBuffer = try store.device.makeBuffer(count: max(count, 1), dtype: .float32)
        storage = [mBuffer, vBuffer]
        m = mBuffer.slice(0, count)
        v = vBuffer.slice(0, count)
        clipping = try maxGradientNorm.map { try GradientClipping(maxNorm: $0, device: store.device) }
    }

    public func step(store: ParameterStore) {
        precondition(store.parameterCount == m.count, "Adam: the store does not match the one the optimizer was built for")
        guard m.count > 0 else { return }
        stepCount += 1
        let scale = clipping?.scale(for: store.gradients, device: store.device)
        store.device.adamUpdate(parameters: store.values, gradients: store.gradients, m: m, v: v,
                                step: stepCount, hyper: hyper, gradientScale: scale)
    }

    /// m and v, as `exp_avg` and `exp_avg_sq`.
    public var stateTensors: [(name: String, values: BufferSlice)] { [("exp_avg", m), ("exp_avg_sq", v)] }
}

/// AdamW (Loshchilov & Hutter), `torch.optim.AdamW`: Adam with decoupled weight decay θ ← θ − lr·λ·θ,
/// default λ = 0.01.
public final class AdamW: Adam {
    /// An AdamW optimizer; `hyper.decoupled` is forced on.
    public init(store: ParameterStore, learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0.01, maxGradientNorm: Float? = nil) throws {
        try super.init(store: store,
                       hyper: AdamParameters(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                                             weightDecay: weightDecay, decoupled: true),
                       maxGradientNorm: maxGradientNorm)
    }
}
