import Foundation

/// Scalar activations and their derivatives on the CPU, matching `act_apply` / `act_grad` in `Kernels/common.cl`.
enum ActivationMath {
    @inline(__always)
    static func apply(_ x: Float, _ activation: Activation) -> Float {
        switch activation {
        case .identity: return x
        case .relu: return max(x, 0)
        case .leakyRelu(let slope): return x > 0 ? x : slope * x
        case .sigmoid: return 1 / (1 + expf(-x))
        case .tanh: return tanhf(x)
        case .softplus: return x > 20 ? x : log1pf(expf(x))
        case .exp: return expf(x)
        }
    }

    /// The derivative from the input `x` and output `y`.
    @inline(__always)
    static func derivative(_ x: Float, _ y: Float, _ activation: Activation) -> Float {
        switch activation {
        case .identity: return 1
        case .relu: return y > 0 ? 1 : 0
        case .leakyRelu(let slope): return x > 0 ? 1 : slope
        case .sigmoid: return y * (1 - y)
        case .tanh: return 1 - y * y
        case .softplus: return 1 / (1 + expf(-x))
        case .exp: return y
        }
    }

    /// Applies `activation` in place to `count` floats, over all cores.
    static func applyInPlace(_ y: UnsafeMutablePointer<Float>, count: Int, _ activation: Activation) {
        switch activation {
        case .identity: return
        case .relu:
            Parallel.chunks(count) { range in for i in range { y[i] = max(y[i], 0) } }
        default:
            Parallel.chunks(count, grain: 4096) { range in for i in range { y[i] = apply(y[i], activation) } }
        }
    }
}
