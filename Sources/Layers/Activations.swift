import Compute

/// A pointwise nonlinearity y = act(x) as a layer of its own. The concrete layers are ``ReLU``,
/// ``LeakyReLU``, ``Sigmoid``, ``Tanh`` and ``Softplus``.
///
/// Inside a ``Sequential`` that fuses, an activation that follows a product layer is applied in that
/// product's epilogue and this layer, prepared with ``Fusion/passesThrough``, passes its input and gradient
/// through unchanged.
public class ActivationLayer: FusingLayer {
    /// The nonlinearity.
    public let activation: Activation

    /// nil until prepared, and when the layer passes through.
    private var prepared: Reference<Prepared>?
    private var passesThrough = false
    private var input: BufferSlice?

    private struct Prepared {
        let device: any Device
        let output: Buffer   // y, same shape as x
        let dinput: Buffer   // dx, same shape as x
    }

    init(_ activation: Activation) {
        self.activation = activation
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }

    public func declareParameters(in layout: inout ParameterLayout, prefix: String) {}

    public func prepare(device: any Device, store: ParameterStore, inputShape: [Int], batch: Int, fusion: Fusion) throws {
        passesThrough = fusion.passesThrough
        guard !passesThrough else { prepared = nil; return }
        let count = batch * elementCount(inputShape)
        prepared = Reference(Prepared(device: device, output: try device.makeBuffer(count: count, dtype: .float32),
                                      dinput: try device.makeBuffer(count: count, dtype: .float32)))
    }

    public func forward(_ x: BufferSlice, context: StepContext) -> BufferSlice {
        guard !passesThrough else { return x }
        guard let p = prepared else { preconditionFailure("\(type(of: self)): prepare before forward") }
        input = x
        // y = act(x)
        p.device.activate(x, into: p.output.whole, activation: activation)
        return p.output.whole
    }

    public func backward(_ dy: BufferSlice, context: StepContext, needInputGradient: Bool) -> BufferSlice? {
        guard needInputGradient else { return nil }
        guard !passesThrough else { return dy }
        guard let p = prepared, let x = input else { preconditionFailure("\(type(of: self)): forward before backward") }
        // dx = dy · act′(x, y)
        p.device.activationBackward(dy, input: x, output: p.output.whole, into: p.dinput.whole,
                                    activation: activation, accumulate: false)
        return p.dinput.whole
    }
}

/// y = max(x, 0), PyTorch's `nn.ReLU`.
public final class ReLU: ActivationLayer {
    public init() { super.init(.relu) }
}

/// y = x for x > 0, else slope·x, PyTorch's `nn.LeakyReLU` (default slope 0.01).
public final class LeakyReLU: ActivationLayer {
    public init(negativeSlope: Float = 0.01) { super.init(.leakyRelu(slope: negativeSlope)) }
}

/// y = 1 / (1 + e⁻ˣ), PyTorch's `nn.Sigmoid`.
public final class Sigmoid: ActivationLayer {
    public init() { super.init(.sigmoid) }
}

/// y = tanh x, PyTorch's `nn.Tanh`.
public final class Tanh: ActivationLayer {
    public init() { super.init(.tanh) }
}

/// y = log(1 + eˣ), PyTorch's `nn.Softplus` with β = 1 (linear above x = 20).
public final class Softplus: ActivationLayer {
    public init() { super.init(.softplus) }
}
