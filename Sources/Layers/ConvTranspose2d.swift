import Compute

/// A transposed 2-D convolution, PyTorch's `nn.ConvTranspose2d`: the input gradient of the convolution
/// whose input is this layer's output (the "mirrored" geometry), plus a bias.
///
/// Parameters: `weight` [in, out, kh, kw] (PyTorch's layout, which is exactly the OIHW weight of the
/// mirrored convolution from `out` to `in` channels) and `bias` [out], both U(±1/√(out·kh·kw)) because
/// PyTorch computes fan_in from the weight's dimension 1.
/// Per-sample shapes: [in, H, W] → [out, (H−1)·s − 2p + kh + op, (W−1)·s − 2p + kw + op].
public final class ConvTranspose2d: FusableProduct {
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
    /// Extra rows and columns added to one side of the output (below the stride).
    public let outputPadding: (Int, Int)
    /// Whether the layer has a bias.
    public let hasBias: Bool

    private var parameters = WeightAndBias()
    private var prepared: Reference<PreparedProduct<Geometries>>?
    private var input: BufferSlice?

    fileprivate struct Geometries {
        /// The convolution from this layer's output [N, out, Ho, Wo] back to its input [N, in, H, W].
        let mirrored: ConvGeometry
        /// A 1×1 geometry whose output is this layer's output, for the bias gradient.
        let outputGeometry: ConvGeometry
    }

    /// A transposed convolution with rectangular kernels, strides and paddings.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), outputPadding: (Int, Int) = (0, 0), bias: Bool = true) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.hasBias = bias
    }

    /// A transposed convolution with a square kernel and equal strides and paddings.
    public convenience init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1,
                            padding: Int = 0, outputPadding: Int = 0, bias: Bool = true) {
        self.init(inChannels, outChannels, kernelSize: (kernelSize, kernelSize), stride: (stride, stride),
                  padding: (padding, padding), outputPadding: (outputPadding, outputPadding), bias: bias)
    }

    private var name: String {
        "ConvTranspose2d(\(inChannels)→\(outChannels), k=\(kernelSize), s=\(stride), p=\(padding), op=\(outputPadding))"
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inChannels > 0, outChannels > 0, kernelSize.0 > 0, kernelSize.1 > 0, stride.0 > 0, stride.1 > 0,
              padding.0 >= 0, padding.1 >= 0 else {
            throw LayerError.invalidConfiguration(layer: name, message: "sizes and strides must be positive, paddings non-negative")
        }
        guard outputPadding.0 >= 0, outputPadding.1 >= 0, outputPadding.0 < stride.0, outputPadding.1 < stride.1 else {
            throw LayerError.invalidConfiguration(layer: name, message: "output padding must be non-negative and smaller than the stride")
        }
        guard inputShape.count == 3, inputShape[0] == inChannels, inputShape[1] > 0, inputShape[2] > 0 else {
            throw LayerError.invalidShape(layer: name, message: "expects [\(inChannels), H, W] inputs, got \(inputShape)")
        }
        let height = (inputShape[1] - 1) * stride.0 - 2 * padding.0 + kernelSize.0 + outputPadding.0
        let width = (inputShape[2] - 1) * stride.1 - 2 * padding.1 + kernelSize.1 + outputPadding.1
        guard height > 0, width > 0 else {
            throw LayerError.invalidShape(layer: name, message: "the output of \(inputShape) would be \(height)×\(width)")
        }
        return [outChannels, height, width]
    }

    public func declareParameters(in layout: inout ParameterLayout, prefix: String) {
        parameters.declare(in: &layout, prefix: prefix, weightShape: [inChannels, outChannels, kernelSize.0, kernelSize.1],
                           biasCount: hasBias ? outChannels : nil, fanIn: outChannels * kernelSize.0 * kernelSize.1)
    }

    public func prepare(device: any Device, store: ParameterStore, inputShape: [Int], batch: Int, fusion: Fusion) throws {
        let out = try outputShape(for: inputShape)
        let mirrored = ConvGeometry(batch: batch, inChannels: outChannels, inHeight: out[1], inWidth: out[2],
                                    outChannels: inChannels, kernel: kernelSize, stride: stride, padding: padding)
        precondition(mirrored.outHeight == inputShape[1] && mirrored.outWidth == inputShape[2], "mirrored geometry")
        let outputGeometry = ConvGeometry(batch: batch, inChannels: 1, inHeight: out[1], inWidth: out[2],
                                          outChannels: outChannels, kernel: (1, 1))
        let shape = Geometries(mirrored: mirrored, outputGeometry: outputGeometry)
        prepared = Reference(try PreparedProduct(device: device, store: store, parameters: parameters,
                                                 layer: "ConvTranspose2d", shape: shape, fusion: fusion,
                                                 outputCount: mirrored.inputCount, inputCount: mirrored.outputCount))
    }

    public func forward(_ x: BufferSlice, context: StepContext) -> BufferSlice {
        guard let p = prepared else { preconditionFailure("ConvTranspose2d: prepare before forward") }
        input = x
        let y = p.output.whole
        // y [N, out, Ho, Wo] = act(x [N, in, H, W] ⋆ᵀ w + b): the input gradient of the mirrored convolution, with
        // the bias and activation in its epilogue
        p.device.conv2dBackwardInput(x, weight: p.weight, into: y, geometry: p.mirrored, accumulate: false,
                                     epilogue: ProductEpilogue(bias: p.bias, activation: p.fusion.epilogue))
        return y
    }

    public func backward(_ dy: BufferSlice, context: StepContext, needInputGradient: Bool) -> BufferSlice? {
        guard let p = prepared, let x = input else { preconditionFailure("ConvTranspose2d: forward before backward") }
        let d = p.device
        // dpre [N, out, Ho, Wo] = dy · act′(y)
        let dpre = p.fusion.epilogueGradient(dy, device: d, output: p.output.whole, workspace: p.dpre.whole)
        // L = ⟨dpre, convᵀ(x)⟩ = ⟨conv(dpre), x⟩, so dw is the mirrored convolution's weight gradient with
        // dpre as its input and x as its output gradient.
        d.conv2dBackwardWeight(dpre, x, into: p.dweight, geometry: p.mirrored, accumulate: true)
        // db [out] += Σ_{n,i,j} dpre
        if let dbias = p.dbias { d.conv2dBackwardBias(dpre, into: dbias, geometry: p.outputGeometry, accumulate: true) }
        guard needInputGradient else { return nil }
        // dx [N, in, H, W] = dpre ⋆ w: the mirrored convolution's forward pass, times g′(x) when x came out of
        // activation g
        let dx = p.dinput.whole
        d.conv2dForward(dpre, weight: p.weight, into: dx, geometry: p.mirrored, epilogue: p.fusion.inputGradientEpilogue(input: x))
        return dx
    }
}

private extension PreparedProduct<ConvTranspose2d.Geometries> {
    /// The convolution from the layer's output back to its input.
    var mirrored: ConvGeometry { shape.mirrored }
    /// The 1×1 geometry of the layer's output, for the bias gradient.
    var outputGeometry: ConvGeometry { shape.outputGeometry }
}
