import Compute

/// Layers applied one after another, PyTorch's `nn.Sequential`.
///
/// Children are named by position like PyTorch (`0.weight`, `2.bias`: activations and other
/// parameter-free layers take an index too). When `fuse` is on, preparing the chain plans its fusions
/// (``FusionPlan``: a product applies the activation after it in its epilogue, and the next product folds that
/// activation's derivative into its input gradient) and hands each child its part; the children themselves are
/// not changed, so a layer may sit in several chains.
public final class Sequential: FusingLayer {
    /// The children in order.
    public let layers: [any Layer]
    /// Whether preparing the chain fuses.
    public let fuse: Bool
    /// The fusions of the last ``prepare(device:store:inputShape:batch:fusion:)``.
    public private(set) var plan: FusionPlan?

    /// Chains `layers`.
    public init(_ layers: [any Layer], fuse: Bool = true) {
        self.layers = layers
        self.fuse = fuse
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

    /// Plans the fusions and prepares every child with its part. `fusion.derivativeAppliedDownstream`: the
    /// readers of the chain's output offer to apply act′ of its last activation (``FusionPlan/outputActivation``
    /// says whether the chain took the offer).
    public func prepare(device: any Device, store: ParameterStore, inputShape: [Int], batch: Int, fusion: Fusion) throws {
        let plan = FusionPlan(layers, fuse: fuse, derivativeAppliedDownstream: fusion.derivativeAppliedDownstream)
        var shape = inputShape
        for (layer, part) in zip(layers, plan.fusions) {
            if let fusing = layer as? any FusingLayer {
                try fusing.prepare(device: device, store: store, inputShape: shape, batch: batch, fusion: part)
            } else {
                try layer.prepare(device: device, store: store, inputShape: shape, batch: batch)
            }
            shape = try layer.outputShape(for: shape)
        }
        self.plan = plan
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
