import Compute

/// Inverted dropout, PyTorch's `nn.Dropout`: in training each element is kept with probability 1 − p
/// and scaled by 1/(1 − p), else zeroed; in evaluation the layer is the identity.
///
/// The mask is drawn on the device from ``StepContext/randomStream(purpose:rowWidth:)`` with the layer's
/// declaration index as purpose, so runs are reproducible and backends agree.
public final class Dropout: Layer {
    /// The probability p of zeroing an element.
    public let probability: Float

    private var purpose = 0
    private var prepared: Reference<Prepared>?
    private var maskedForward = false

    private struct Prepared {
        let device: any Device
        let mask: Buffer     // 0 or 1/(1−p), same shape as x
        let output: Buffer   // y = x·mask
        let dinput: Buffer   // dx = dy·mask
        let rowWidth: Int    // elements per sample
    }

    /// Dropout with probability `p` (PyTorch's default 0.5).
    public init(_ p: Float = 0.5) {
        probability = p
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard probability >= 0, probability <= 1 else {
            throw LayerError.invalidConfiguration(layer: "Dropout", message: "probability must lie in [0, 1], got \(probability)")
        }
        return inputShape
    }

    public func declareParameters(in layout: inout ParameterLayout, prefix: String) {
        purpose = layout.reserveRandomStream()
    }

    public func prepare(device: any Device, store: ParameterStore, inputShape: [Int], batch: Int) throws {
        _ = try outputShape(for: inputShape)
        let count = batch * elementCount(inputShape)
        prepared = Reference(Prepared(device: device, mask: try device.makeBuffer(count: count, dtype: .float32),
                            output: try device.makeBuffer(count: count, dtype: .float32),
                            dinput: try device.makeBuffer(count: count, dtype: .float32), rowWidth: count / batch))
    }

    public func forward(_ x: BufferSlice, context: StepContext) -> BufferSlice {
        maskedForward = context.training && probability > 0
        guard maskedForward else { return x }
        guard let p = prepared else { preconditionFailure("Dropout: prepare before forward") }
        let keep = 1 - probability
        // mask = 1/(1−p) with probability 1−p, else 0; y = x · mask
        p.device.fillBernoulli(p.mask.whole, keep: keep, scale: keep > 0 ? 1 / keep : 0,
                               random: context.randomStream(purpose: purpose, rowWidth: p.rowWidth))
        p.device.multiply(x, p.mask.whole, into: p.output.whole)
        return p.output.whole
    }

    public func backward(_ dy: BufferSlice, context: StepContext, needInputGradient: Bool) -> BufferSlice? {
        guard needInputGradient else { return nil }
        guard maskedForward else { return dy }
        guard let p = prepared else { preconditionFailure("Dropout: prepare before backward") }
        // dx = dy · mask
        p.device.multiply(dy, p.mask.whole, into: p.dinput.whole)
        return p.dinput.whole
    }
}
