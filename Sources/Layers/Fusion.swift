import Compute

/// A product layer (Linear, Conv2d, ConvTranspose2d) that can apply an activation in its epilogue, so
/// that ``Sequential`` fuses `product → activation` into one pass over the output.
protocol EpilogueFusable: Layer {
    /// The activation applied to the product's output (`.identity` when nothing is fused).
    var epilogue: Activation { get set }
}

extension Activation {
    /// Whether act′ can be computed from the output alone, which a fused epilogue requires because the
    /// pre-activation is never stored: ReLU, LeakyReLU with slope ≥ 0 (sign y = sign x), sigmoid
    /// (y(1−y)), tanh (1−y²), exp (y). Softplus needs its input and is not fused.
    var derivativeFromOutput: Bool {
        switch self {
        case .identity, .relu, .sigmoid, .tanh, .exp: return true
        case .leakyRelu(let slope): return slope >= 0
        case .softplus: return false
        }
    }
}

extension ElementwisePrimitives {
    /// dpre = dy · act′ from the fused output y (valid when ``Activation/derivativeFromOutput``); returns
    /// `dy` itself for the identity.
    func epilogueBackward(_ dy: BufferSlice, output y: BufferSlice, activation: Activation,
                          workspace: BufferSlice) -> BufferSlice {
        guard activation != .identity else { return dy }
        // The output stands in for the input: for every fusable activation act′ depends only on y
        // (or, for LeakyReLU, on sign x = sign y).
        activationBackward(dy, input: y, output: y, into: workspace, activation: activation, accumulate: false)
        return workspace
    }
}
