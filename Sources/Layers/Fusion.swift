import Compute

/// How one layer takes part in the fusions of the chain that holds it. ``Sequential`` plans them when it is
/// prepared (``FusionPlan``) and hands each layer its own through ``FusingLayer/prepare(device:store:inputShape:batch:fusion:)``;
/// the layer's passes follow it, and nothing else about the layer changes.
public struct Fusion: Equatable, Sendable {
    /// A product's activation applied in its epilogue (`.identity`: none).
    public var epilogue: Activation
    /// Whether the gradient handed to the layer's backward pass already carries act′ of its output activation,
    /// because whoever reads the output multiplied its own input gradient by it: a product then skips its
    /// `dy·act′` pass.
    public var derivativeAppliedDownstream: Bool
    /// The activation whose output is this product's input: its input gradient is multiplied by act′, formed
    /// from the input (`.identity`: no factor).
    public var inputActivation: Activation
    /// An activation layer whose activation the product before it applies: input and gradient pass through.
    public var passesThrough: Bool

    /// A fusion; the defaults fuse nothing.
    public init(epilogue: Activation = .identity, derivativeAppliedDownstream: Bool = false,
                inputActivation: Activation = .identity, passesThrough: Bool = false) {
        self.epilogue = epilogue
        self.derivativeAppliedDownstream = derivativeAppliedDownstream
        self.inputActivation = inputActivation
        self.passesThrough = passesThrough
    }

    /// Nothing fused.
    public static let none = Fusion()
}

/// A layer that can take part in a fusion: the products (Linear, Conv2d, ConvTranspose2d), the activations and
/// ``Sequential`` (whose fusion says whether the readers of its output apply act′ of its last activation).
public protocol FusingLayer: Layer {
    /// ``Layer/prepare(device:store:inputShape:batch:)`` with the layer's part in its container's fusions.
    func prepare(device: any Device, store: ParameterStore, inputShape: [Int], batch: Int, fusion: Fusion) throws
}

extension FusingLayer {
    /// Prepares the layer on its own, fusing nothing.
    public func prepare(device: any Device, store: ParameterStore, inputShape: [Int], batch: Int) throws {
        try prepare(device: device, store: store, inputShape: inputShape, batch: batch, fusion: .none)
    }
}

/// A product layer (Linear, Conv2d, ConvTranspose2d): it can apply an activation in its epilogue and multiply
/// its input gradient by the act′ of the activation its input came out of, in the same products.
protocol FusableProduct: FusingLayer {}

/// The fusions of a chain of layers, one ``Fusion`` per layer.
///
/// A product followed by an activation whose derivative is a function of its output (ReLU, LeakyReLU with
/// slope ≥ 0, Sigmoid, Tanh) applies it in its epilogue and the activation passes through; the backward pass stays
/// exact (dpre = dy·act′ from the fused output). When the next layer after such a product (past the fused
/// activation and any reshapes) is a product too, that layer multiplies its input gradient by act′ in its
/// product's epilogue, and the upstream product skips its own `dy·act′` pass.
///
/// The chain's output can be read by several layers outside it (a VAE's μ and log σ² heads): with
/// `derivativeAppliedDownstream`, the chain's last product skips its `dy·act′` pass and ``outputActivation``
/// names the act′ the readers must apply. The gradient handed back must then be (Σ of every reader's input
/// gradient) ⊙ act′: every reader multiplies its own (act′ distributes over the sum), or one adds its gradient to
/// the others' plain ones and multiplies the total (``Linear/backward(_:context:addingInputGradientTo:)``).
public struct FusionPlan: Equatable, Sendable {
    /// Each layer's part, in order.
    public let fusions: [Fusion]
    /// The activation whose act′ the readers of the chain's output apply (`.identity`: none; the chain then
    /// applies its own).
    public let outputActivation: Activation

    /// Plans the fusions of `layers` (none when `fuse` is off). `derivativeAppliedDownstream`: the readers of the
    /// chain's output offer to apply act′ of its last activation; taken when the chain ends in a product with a
    /// fused activation (past reshapes) whose derivative no layer of the chain applies.
    public init(_ layers: [any Layer], fuse: Bool = true, derivativeAppliedDownstream: Bool = false) {
        var fusions = [Fusion](repeating: .none, count: layers.count)
        guard fuse else {
            self.fusions = fusions
            outputActivation = .identity
            return
        }
        for i in layers.indices.dropLast() {
            guard layers[i] is any FusableProduct, fusions[i].epilogue == .identity,
                  let activation = layers[i + 1] as? ActivationLayer, !fusions[i + 1].passesThrough,
                  activation.activation.derivativeFromOutput else { continue }
            fusions[i].epilogue = activation.activation
            fusions[i + 1].passesThrough = true
        }
        func passesThrough(_ j: Int) -> Bool { fusions[j].passesThrough || layers[j] is Reshape }
        for i in layers.indices where fusions[i].epilogue != .identity {
            guard let consumer = layers.indices[(i + 1)...].first(where: { !passesThrough($0) }),
                  layers[consumer] is any FusableProduct, fusions[consumer].inputActivation == .identity else { continue }
            fusions[consumer].inputActivation = fusions[i].epilogue
            fusions[i].derivativeAppliedDownstream = true
        }
        var output = Activation.identity
        if derivativeAppliedDownstream, let last = layers.indices.last(where: { !passesThrough($0) }),
           fusions[last].epilogue != .identity, !fusions[last].derivativeAppliedDownstream {
            fusions[last].derivativeAppliedDownstream = true
            output = fusions[last].epilogue
        }
        self.fusions = fusions
        outputActivation = output
    }
}

extension Fusion {
    /// The epilogue of a product's input-gradient product: the factor g′ of ``inputActivation`` formed from the
    /// input `x`, or nothing when no activation produced it.
    func inputGradientEpilogue(input x: BufferSlice) -> ProductEpilogue {
        inputActivation == .identity ? .none : ProductEpilogue(derivative: ActivationDerivative(inputActivation, output: x))
    }

    /// dpre = dy·act′ of the epilogue: `dy` itself when the consumer applied act′ already (or there is none),
    /// otherwise formed in `workspace`.
    func epilogueGradient(_ dy: BufferSlice, device: any Device, output: BufferSlice, workspace: BufferSlice) -> BufferSlice {
        derivativeAppliedDownstream ? dy : device.epilogueBackward(dy, output: output, activation: epilogue, workspace: workspace)
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
