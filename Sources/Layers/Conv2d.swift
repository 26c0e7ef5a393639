import Compute

/// A 2-D convolution over NCHW inputs, PyTorch's `nn.Conv2d` (cross-correlation, zero padding):
/// y[n,o,i,j] = Σ_{c,u,v} w[o,c,u,v] · x[n,c, i·s−p+u, j·s−p+v] + b[o].
///
/// Parameters: `weight` [out, in, kh, kw] and `bias` [out], both U(±1/√(in·kh·kw)).
/// Per-sample shapes: [in, H, W] → [out, ⌊(H+2p−kh)/s⌋+1, ⌊(W+2p−kw)/s⌋+1].
public final class Conv2d: FusableProduct {
    /// Input channels.
    public let inChannels: Int
    /// Output channels.
    public let outChannels: Int
    /// (kh, kw).
    public let kernelSize: (Int, Int)
    /// (sh, sw).
    public let stride: (Int, Int)
    /// (ph, pw).
    public let padding: (Int, Int)
    /// Whether the layer has a bias.
    public let hasBias: Bool

    private var parameters = WeightAndBias()
    private var prepared: Reference<PreparedProduct<ConvGeometry>>?
    private var input: BufferSlice?

    /// A convolution with square or rectangular kernels, strides and paddings.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), bias: Bool = true) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.hasBias = bias
    }

    /// A convolution with a square kernel and equal strides and paddings.
    public convenience init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1,
                            padding: Int = 0, bias: Bool = true) {
        self.init(inChannels, outChannels, kernelSize: (kernelSize, kernelSize), stride: (stride, stride),
                  padding: (padding, padding), bias: bias)
    }

    private var name: String { "Conv2d(\(inChannels)→\(outChannels), k=\(kernelSize), s=\(stride), p=\(padding))" }

    private func geometry(_ inputShape: [Int], batch: Int) -> ConvGeometry {
        ConvGeometry(batch: batch, inChannels: inChannels, inHeight: inputShape[1], inWidth: inputShape[2],
                     outChannels: outChannels, kernel: kernelSize, stride: stride, padding: padding)
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inChannels > 0, outChannels > 0, kernelSize.0 > 0, kernelSize.1 > 0, stride.0 > 0, stride.1 > 0,
              padding.0 >= 0, padding.1 >= 0 else {
            throw LayerError.invalidConfiguration(layer: name, message: "sizes and strides must be positive, paddings non-negative")
        }
        guard inputShape.count == 3, inputShape[0] == inChannels, inputShape[1] > 0, inputShape[2] > 0 else {
            throw LayerError.invalidShape(layer: name, message: "expects [\(inChannels), H, W] inputs, got \(inputShape)")
        }
        guard inputShape[1] + 2 * padding.0 >= kernelSize.0, inputShape[2] + 2 * padding.1 >= kernelSize.1 else {
            throw LayerError.invalidShape(layer: name, message: "the padded input \(inputShape) is smaller than the kernel")
        }
        let g = geometry(inputShape, batch: 1)
        return [outChannels, g.outHeight, g.outWidth]
    }

    public func declareParameters(in layout: inout ParameterLayout, prefix: String) {
        parameters.declare(in: &layout, prefix: prefix, weightShape: [outChannels, inChannels, kernelSize.0, kernelSize.1],
                           biasCount: hasBias ? outChannels : nil, fanIn: inChannels * kernelSize.0 * kernelSize.1)
    }

    public func prepare(device: any Device, store: ParameterStore, inputShape: [Int], batch: Int, fusion: Fusion) throws {
        _ = try outputShape(for: inputShape)
        let g = geometry(inputShape, batch: batch)
        prepared = Reference(try PreparedProduct(device: device, store: store, parameters: parameters, layer: "Conv2d",
                                                 shape: g, fusion: fusion, outputCount: g.outputCount, inputCount: g.inputCount))
    }

    public func forward(_ x: BufferSlice, context: StepContext) -> BufferSlice {
        guard let p = prepared else { preconditionFailure("Conv2d: prepare before forward") }
        input = x
        let y = p.output.whole
        // x [N, in, H, W] ⋆ w [out, in, kh, kw] + b → y [N, out, Ho, Wo], activation in the epilogue
        p.device.conv2dForward(x, weight: p.weight, bias: p.bias, into: y, geometry: p.geometry, activation: p.fusion.epilogue)
        return y
    }

    public func backward(_ dy: BufferSlice, context: StepContext, needInputGradient: Bool) -> BufferSlice? {
        guard let p = prepared, let x = input else { preconditionFailure("Conv2d: forward before backward") }
        let d = p.device
        // dpre [N, out, Ho, Wo] = dy · act′(y)
        let dpre = p.fusion.epilogueGradient(dy, device: d, output: p.output.whole, workspace: p.dpre.whole)
        // dw [out, in, kh, kw] += Σ_n dpre ⋆ x, and db [out] += Σ_{n,i,j} dpre in the same pass
        d.conv2dBackwardWeight(x, dpre, into: p.dweight, biasGradient: p.dbias, geometry: p.geometry, accumulate: true)
        guard needInputGradient else { return nil }
        // dx [N, in, H, W] = dpre ⋆ᵀ w, times g′(x) when x came out of activation g
        let dx = p.dinput.whole
        d.conv2dBackwardInput(dpre, weight: p.weight, into: dx, geometry: p.geometry, accumulate: false,
                              epilogue: p.fusion.inputGradientEpilogue(input: x))
        return dx
    }
}

private extension PreparedProduct<ConvGeometry> {
    /// The convolution's geometry at the prepared batch size.
    var geometry: ConvGeometry { shape }
}
