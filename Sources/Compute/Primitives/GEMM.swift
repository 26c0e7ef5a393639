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

/// Matrix products. All matrices are dense, row-major and contiguous.
public protocol GEMMPrimitives {
    /// C = act(α·op(A)·op(B) + β·C + bias).
    ///
    /// - op(A) is M×K: A is stored M×K, or K×M when `transposeA`.
    /// - op(B) is K×N: B is stored K×N, or N×K when `transposeB` (a Linear layer's `x·Wᵀ`).
    /// - `bias`, when given, has N elements and is added to every row.
    /// - C is M×N. With β = 0 its old contents are ignored (NaN included).
    func gemm(
        _ a: BufferSlice, transposeA: Bool,
        _ b: BufferSlice, transposeB: Bool,
        into c: BufferSlice,
        m: Int, n: Int, k: Int,
        alpha: Float, beta: Float,
        bias: BufferSlice?, activation: Activation
    )
}

extension GEMMPrimitives {
    /// C = op(A)·op(B), overwriting C.
    public func gemm(_ a: BufferSlice, transposeA: Bool = false, _ b: BufferSlice, transposeB: Bool = false,
                     into c: BufferSlice, m: Int, n: Int, k: Int) {
        gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: c, m: m, n: n, k: k,
             alpha: 1, beta: 0, bias: nil, activation: .identity)
    }
}
