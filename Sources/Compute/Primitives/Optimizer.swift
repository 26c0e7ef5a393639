import Foundation

/// Hyper-parameters of an Adam or AdamW step.
public struct AdamParameters: Equatable, Sendable {
    /// Step size lr.
    public var learningRate: Float
    /// Decay β₁ of the first-moment average m.
    public var beta1: Float
    /// Decay β₂ of the second-moment average v.
    public var beta2: Float
    /// ε added to √v̂ in the denominator.
    public var epsilon: Float
    /// Weight decay λ (L2 for Adam, decoupled for AdamW).
    public var weightDecay: Float
    /// AdamW: decay the weights directly (θ −= lr·λ·θ) instead of adding λ·θ to the gradient.
    public var decoupled: Bool

    /// Creates hyper-parameters; the defaults are `torch.optim.Adam`'s (`AdamW` defaults to λ = 0.01).
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
/// (see ``clipScale(squaredNorm:maxNorm:into:)``), so clipping needs no read-back. An update consumes the
/// gradients: it leaves them 0, so the next backward pass accumulates from zero without a clearing pass.
public protocol OptimizerPrimitives {
    /// One Adam/AdamW step; `step` counts from 1 (bias correction). With g = s·∇ (s the gradient scale, 1
    /// when absent), as `torch.optim.Adam` / `AdamW`:
    ///
    ///     Adam:  g ← g + λ·θ          AdamW:  θ ← (1 − lr·λ)·θ
    ///     m ← β₁·m + (1 − β₁)·g
    ///     v ← β₂·v + (1 − β₂)·g²
    ///     θ ← θ − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
    ///     ∇ ← 0
    ///
    /// `m` and `v` start as zeros; all four views hold the same number of elements.
    func adamUpdate(parameters: BufferSlice, gradients: BufferSlice, m: BufferSlice, v: BufferSlice,
                    step: Int, hyper: AdamParameters, gradientScale: BufferSlice?)
    /// One SGD step with optional momentum (PyTorch's: buf = μ·buf + g; θ −= lr·buf) and L2 weight decay:
    ///
    ///     g ← s·∇ + λ·θ
    ///     buf ← μ·buf + g;  θ ← θ − lr·buf     (velocity given and μ ≠ 0)
    ///     θ ← θ − lr·g                          (otherwise; velocity is left untouched)
    ///     ∇ ← 0
    ///
    /// PyTorch sets the buffer to g on the first step; here the buffer must start as zeros, which gives
    /// exactly buf = μ·0 + g = g on the first step, so every step equals PyTorch's (dampening 0, no Nesterov).
    func sgdUpdate(parameters: BufferSlice, gradients: BufferSlice, velocity: BufferSlice?,
                   learningRate: Float, momentum: Float, weightDecay: Float, gradientScale: BufferSlice?)
    /// scale = min(1, maxNorm / (√squaredNorm + 1e-6)) into a one-element view, as
    /// `torch.nn.utils.clip_grad_norm_` computes its clip coefficient. A NaN norm gives a NaN scale (as
    /// PyTorch's clamp does), so a diverged step shows in the parameters instead of being applied unclipped.
    func clipScale(squaredNorm: BufferSlice, maxNorm: Float, into scale: BufferSlice)
}

/// The per-step scalars of an Adam/AdamW update, computed once on the host in double precision
/// exactly as `torch.optim.Adam` forms them, then rounded to float for the element loop.
struct AdamConstants {
    /// β₁, 1 − β₁, β₂, 1 − β₂ and ε.
    let beta1, oneMinusBeta1, beta2, oneMinusBeta2, epsilon: Float
    /// lr / (1 − β₁ᵗ).
    let stepSize: Float
    /// √(1 − β₂ᵗ).
    let biasCorrection2Sqrt: Float
    /// λ added to the gradient (Adam) or 0 (AdamW).
    let l2: Float
    /// 1 − lr·λ multiplying θ (AdamW) or 1 (Adam).
    let decay: Float

    init(_ hyper: AdamParameters, step: Int) {
        beta1 = hyper.beta1
        oneMinusBeta1 = 1 - hyper.beta1
        beta2 = hyper.beta2
        oneMinusBeta2 = 1 - hyper.beta2
        epsilon = hyper.epsilon
        let t = Double(step)
        stepSize = Float(Double(hyper.learningRate) / (1 - pow(Double(hyper.beta1), t)))
        biasCorrection2Sqrt = Float((1 - pow(Double(hyper.beta2), t)).squareRoot())
        l2 = hyper.decoupled ? 0 : hyper.weightDecay
        decay = hyper.decoupled ? Float(1 - Double(hyper.learningRate) * Double(hyper.weightDecay)) : 1
    }
}
