import Compute

/// A product layer (Linear, Conv2d, ConvTranspose2d) that can apply an activation in its epilogue, so
/// that ``Sequential`` fuses `product → activation` into one pass over the output.
protocol EpilogueFusable: Layer {
    /// The activation applied to the product's output (`.identity` when nothing is fused).
    var epilogue: Activation { get set }
    /// Set by ``Sequential`` when the layer consuming this output multiplies its input gradient by act′ of
    /// ``epilogue`` itself (see ``DerivativeFusable``): the gradient reaching ``Layer/backward`` is then
    /// already dpre = dy·act′.
    var epilogueDerivativeApplied: Bool { get set }
}

/// A layer whose input gradient can carry the factor act′ of the activation that produced its input, so that
/// ``Sequential`` folds an upstream product's `dy·act′` pass into this layer's input-gradient product.
protocol DerivativeFusable: Layer {
    /// The activation whose output is this layer's input (`.identity` when nothing is fused): the input
    /// gradient is multiplied by its act′, formed from the input.
    var inputActivation: Activation { get set }
}

extension DerivativeFusable {
    /// The epilogue of the input-gradient product: the factor g′ of ``inputActivation`` formed from the input `x`,
    /// or nothing when no activation produced it.
    func inputGradientEpilogue(input x: BufferSlice) -> ProductEpilogue {
        inputActivation == .identity ? .none : ProductEpilogue(derivative: ActivationDerivative(inputActivation, output: x))
    }
}

extension EpilogueFusable {
    /// dpre = dy·act′ of the epilogue: `dy` itself when the consumer applied act′ already (or there is none),
    /// otherwise formed in `workspace`.
    func epilogueGradient(_ dy: BufferSlice, device: any Device, output: BufferSlice, workspace: BufferSlice) -> BufferSlice {
        epilogueDerivativeApplied ? dy : device.epilogueBackward(dy, output: output, activation: epilogue, workspace: workspace)
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
