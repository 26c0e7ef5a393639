import Compute

/// Layers applied one after another, PyTorch's `nn.Sequential`.
///
/// Children are named by position like PyTorch (`0.weight`, `2.bias`: activations and other
/// parameter-free layers take an index too). When `fuse` is on, a Linear, Conv2d or ConvTranspose2d
/// followed by an activation whose derivative is a function of its output (ReLU, LeakyReLU with slope ≥ 0,
/// Sigmoid, Tanh) applies it in its epilogue and the activation layer passes through; the backward pass
/// stays exact (dpre = dy·act′ from the fused output). When the next layer with parameters after such a product
/// (past the fused activation and any reshapes) is a Linear, Conv2d or ConvTranspose2d, that layer multiplies its input
/// gradient by act′ in its product's epilogue, and the upstream product skips its own `dy·act′` pass.
public final class Sequential: Layer {
    /// The children in order.
    public let layers: [any Layer]

    /// Chains `layers`; fusion marks the children, so a child belongs to one Sequential.
    public init(_ layers: [any Layer], fuse: Bool = true) {
        self.layers = layers
        guard fuse else { return }
        for (product, next) in zip(layers, layers.dropFirst()) {
            guard let product = product as? any EpilogueFusable, product.epilogue == .identity,
                  let activation = next as? ActivationLayer, !activation.isFused,
                  activation.activation.derivativeFromOutput else { continue }
            product.epilogue = activation.activation
            activation.isFused = true
        }
        for (i, layer) in layers.enumerated() {
            guard let product = layer as? any EpilogueFusable, product.epilogue != .identity,
                  let consumer = layers[(i + 1)...].first(where: { !Self.passesThrough($0) }) as? any DerivativeFusable,
                  consumer.inputActivation == .identity else { continue }
            consumer.inputActivation = product.epilogue
            product.epilogueDerivativeApplied = true
        }
    }

    /// Lets `consumers` multiply their input gradients by act′ of the activation fused into the chain's last
    /// product, which then skips its own `dy·act′` pass. The gradient handed to
    /// ``backward(_:context:needInputGradient:)`` must then be (Σ of every reader's input gradient) ⊙ act′: either
    /// every reader of the output is a consumer (act′ distributes over the sum), or one consumer adds its gradient to
    /// the others' plain ones and multiplies the total (``Linear/backward(_:context:addingInputGradientTo:)``).
    /// Returns false, changing nothing, when the chain does not end in a product with a fused activation (past
    /// reshapes) or a consumer already takes a factor.
    @discardableResult
    public func fuseOutputDerivative(into consumers: [Linear]) -> Bool {
        guard let product = layers.last(where: { !Self.passesThrough($0) }) as? any EpilogueFusable,
              product.epilogue != .identity, !product.epilogueDerivativeApplied, !consumers.isEmpty,
              consumers.allSatisfy({ $0.inputActivation == .identity }) else { return false }
        for consumer in consumers { consumer.inputActivation = product.epilogue }
        product.epilogueDerivativeApplied = true
        return true
    }

    /// Whether `layer` hands its input on as its output and its output gradient back unchanged.
    private static func passesThrough(_ layer: any Layer) -> Bool {
        if let activation = layer as? ActivationLayer { return activation.isFused }
        return layer is Reshape
    }

    /// Chains the layers given in order.
    public convenience init(fuse: Bool = true, _ layers: any Layer...) {
        self.init(layers, fuse: fuse)
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        try layers.reduce(inputShape) { try $1.outputShape(for: $0) }
    }

    public func declareParameters(in layout: inout ParameterLayout, prefix: String) {
        for (i, layer) in layers.enumerated() {
            layer.declareParameters(in: &layout, prefix: "\(prefix)\(i).")
        }
    }

    public func prepare(device: any Device, store: ParameterStore, inputShape: [Int], batch: Int) throws {
        var shape = inputShape
        for layer in layers {
            try layer.prepare(device: device, store: store, inputShape: shape, batch: batch)
            shape = try layer.outputShape(for: shape)
        }
    }

    public func forward(_ x: BufferSlice, context: StepContext) -> BufferSlice {
        layers.reduce(x) { $1.forward($0, context: context) }
    }

    public func backward(_ dy: BufferSlice, context: StepContext, needInputGradient: Bool) -> BufferSlice? {
        var gradient: BufferSlice? = dy
        for (i, layer) in layers.enumerated().reversed() {
            guard let g = gradient else { break }
            gradient = layer.backward(g, context: context, needInputGradient: i > 0 || needInputGradient)
        }
        return needInputGradient ? gradient : nil
    }
}
