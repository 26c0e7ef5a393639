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

    /// r[j] = act(r[j] + bias[j]) for j in `columns` of one row (no bias: act(r[j])), with the common
    /// activations in their own loops so each vectorizes.
    @inline(__always)
    static func epilogue(_ r: UnsafeMutablePointer<Float>, columns: Range<Int>, bias: UnsafePointer<Float>?,
                         _ activation: Activation) {
        if let bias {
            switch activation {
            case .identity: for j in columns { r[j] += bias[j] }
            case .relu: for j in columns { r[j] = max(r[j] + bias[j], 0) }
            default: for j in columns { r[j] = apply(r[j] + bias[j], activation) }
            }
        } else {
            switch activation {
            case .identity: return
            case .relu: for j in columns { r[j] = max(r[j], 0) }
            default: for j in columns { r[j] = apply(r[j], activation) }
            }
        }
    }

    /// r[j] ·= act′ formed from the activation's output y[j], for j in `columns` of one row
    /// (``Activation/derivativeFromOutput`` holds: y stands in for the input too).
    @inline(__always)
    static func multiplyByDerivative(_ r: UnsafeMutablePointer<Float>, output y: UnsafePointer<Float>,
                                     columns: Range<Int>, _ activation: Activation) {
        switch activation {
        case .identity: return
        case .relu: for j in columns { r[j] *= y[j] > 0 ? 1 : 0 }
        default: for j in columns { r[j] *= derivative(y[j], y[j], activation) }
        }
    }
}
