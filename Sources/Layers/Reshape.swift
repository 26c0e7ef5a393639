import Compute

/// Views each sample with a new shape of the same element count; data and gradients pass through.
/// `Reshape([C, H, W])` after a Linear is PyTorch's `nn.Unflatten(1, (C, H, W))`.
public class Reshape: Layer {
    /// The per-sample output shape; ``Flatten`` leaves it empty, meaning one dimension of all elements.
    public let shape: [Int]

    /// A reshape to `shape` (per sample, without the batch dimension).
    public init(_ shape: [Int]) {
        self.shape = shape
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        let target = shape.isEmpty ? [elementCount(inputShape)] : shape
        guard target.allSatisfy({ $0 > 0 }), elementCount(target) == elementCount(inputShape) else {
            throw LayerError.invalidShape(layer: "Reshape(\(target))", message: "cannot view \(inputShape) as \(target)")
        }
        return target
    }

    public func declareParameters(in layout: inout ParameterLayout, prefix: String) {}

    public func prepare(device: any Device, store: ParameterStore, inputShape: [Int], batch: Int) throws {
        _ = try outputShape(for: inputShape)
    }

    public func forward(_ x: BufferSlice, context: StepContext) -> BufferSlice { x }

    public func backward(_ dy: BufferSlice, context: StepContext, needInputGradient: Bool) -> BufferSlice? {
        needInputGradient ? dy : nil
    }
}

/// Flattens each sample to one dimension, PyTorch's `nn.Flatten()`: [C, H, W] → [C·H·W].
public final class Flatten: Reshape {
    public init() { super.init([]) }
}
