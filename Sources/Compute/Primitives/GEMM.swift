/// A pointwise nonlinearity, used on its own and as the epilogue of products and convolutions.
public enum Activation: Equatable, Sendable {
    case identity
    case relu
    /// max(x, slope·x).
    case leakyRelu(slope: Float)
    case sigmoid
    case tanh
    /// log(1 + eˣ).
    case softplus
    case exp

    /// Integer code shared with the OpenCL kernels (`ACT_*` in `Kernels/common.cl`).
    var code: Int32 {
        switch self {
        case .identity: return 0
        case .relu: return 1
        case .leakyRelu: return 2
        case .sigmoid: return 3
        case .tanh: return 4
        case .softplus: return 5
        case .exp: return 6
        }
    }

    /// The slope of a leaky ReLU, 0 for the others.
    var parameter: Float {
        if case .leakyRelu(let slope) = self { return slope }
        return 0
    }
}

extension Activation {
    /// Whether act′ can be computed from the activation's output y alone (the pre-activation need not be kept):
    /// ReLU, LeakyReLU with slope ≥ 0 (sign y = sign x), sigmoid (y(1−y)), tanh (1−y²), exp (y). Softplus needs
    /// its input.
    public var derivativeFromOutput: Bool {
        switch self {
        case .identity, .relu, .sigmoid, .tanh, .exp: return true
        case .leakyRelu(let slope): return slope >= 0
        case .softplus: return false
        }
    }
}

/// act′ of an activation whose output y = act(x) is kept, as a product's epilogue applies it: the input gradient
/// of a layer whose input came out of `activation` (``Activation/derivativeFromOutput`` must hold).
public struct ActivationDerivative {
    /// The activation that produced `output`.
    public let activation: Activation
    /// y = act(x), shaped like the product's output C.
    public let output: BufferSlice

    /// act′ evaluated from `output`, the result of `activation`.
    public init(_ activation: Activation, output: BufferSlice) {
        precondition(activation.derivativeFromOutput, "\(activation)′ cannot be formed from its output")
        self.activation = activation
        self.output = output
    }
}

/// What a product or a convolution applies to each value v it writes, in one pass with the write:
/// act(v + bias) ⊙ g′(Y). Every product and convolution primitive takes one, and the OpenCL kernels take it as one
/// argument block (`EPILOGUE_PARAMS` in `Kernels/common.cl`).
public struct ProductEpilogue {
    /// Added to every value before the activation, one element per output column of a product (per channel of a
    /// convolution); nil adds nothing.
    public var bias: BufferSlice?
    /// Applied after the bias.
    public var activation: Activation
    /// (g, Y): the factor g′ formed from Y (shaped like the output), multiplied in after the activation; nil for none.
    public var derivative: ActivationDerivative?

    /// The epilogue that leaves every value as it is.
    public static let none = ProductEpilogue()

    /// act(v + bias) ⊙ g′(Y), each part optional.
    public init(bias: BufferSlice? = nil, activation: Activation = .identity, derivative: ActivationDerivative? = nil) {
        self.bias = bias
        self.activation = activation
        self.derivative = derivative
    }
}

/// Matrix products. All matrices are dense, row-major and contiguous.
public protocol GEMMPrimitives {
    /// C = act(α·op(A)·op(B) + β·C + bias) ⊙ g′(Y) (the `epilogue`), and optionally the row sums of op(A).
    ///
    /// - op(A) is M×K: A is stored M×K, or K×M when `transposeA`.
    /// - op(B) is K×N: B is stored K×N, or N×K when `transposeB` (a Linear layer's `x·Wᵀ`).
    /// - the epilogue's `bias`, when given, has N elements and is added to every row; its `derivative` = (g, Y)
    ///   multiplies each element of C by g′ formed from Y (M×N) after the activation: a layer's input gradient
    ///   dx = (dy·W) ⊙ g′(x) when its input x is the output of g.
    /// - `rowSums`, when given, has M elements: rowSums[i] = α·Σₖ op(A)[i, k] + β·rowSums[i] (with β = 0 the old
    ///   contents are ignored): a Linear layer's bias gradient Σ_rows dy alongside its weight gradient dyᵀ·x.
    /// - C is M×N. With β = 0 its old contents are ignored (NaN included).
    func gemm(
        _ a: BufferSlice, transposeA: Bool,
        _ b: BufferSlice, transposeB: Bool,
        into c: BufferSlice,
        m: Int, n: Int, k: Int,
        alpha: Float, beta: Float,
        epilogue: ProductEpilogue, rowSums: BufferSlice?
    )
}

extension GEMMPrimitives {
    /// C = act(α·op(A)·op(B) + β·C + bias): the product with neither a derivative nor row sums.
    public func gemm(_ a: BufferSlice, transposeA: Bool, _ b: BufferSlice, transposeB: Bool, into c: BufferSlice,
                     m: Int, n: Int, k: Int, alpha: Float, beta: Float, bias: BufferSlice?, activation: Activation) {
        gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: c, m: m, n: n, k: k, alpha: alpha, beta: beta,
             epilogue: ProductEpilogue(bias: bias, activation: activation), rowSums: nil)
    }

    /// C = op(A)·op(B), overwriting C.
    public func gemm(_ a: BufferSlice, transposeA: Bool = false, _ b: BufferSlice, transposeB: Bool = false,
                     into c: BufferSlice, m: Int, n: Int, k: Int) {
        gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: c, m: m, n: n, k: k,
             alpha: 1, beta: 0, bias: nil, activation: .identity)
    }
}
