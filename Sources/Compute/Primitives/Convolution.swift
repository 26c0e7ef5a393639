/// The shape of a 2-D convolution over NCHW tensors with an OIHW weight (PyTorch's layouts).
///
/// A transposed convolution uses the same geometry with its roles swapped: its forward pass is the
/// input gradient of the convolution whose input is the transposed convolution's output.
/// For `ConvTranspose2d(Ci→Co, k, s, p)` on x (N×Ci×Hi×Wi) with weight w (Ci×Co×kh×kw), take the geometry
/// ``transposed(batch:inChannels:inHeight:inWidth:outChannels:kernel:stride:padding:)`` (batch N, inChannels Co,
/// inHeight (Hi−1)·s − 2p + kh, inWidth likewise, outChannels Ci, k, s, p), whose output is Hi×Wi and whose
/// OIHW weight is w itself. Then
/// - y = act(ConvTranspose2d(x) + bias) is `conv2dBackwardInput(x, weight: w, into: y, bias: bias, activation: act)`;
/// - its input gradient dx is `conv2dForward(dy, weight: w, bias: nil, into: dx)`;
/// - its weight gradient dw is `conv2dBackwardWeight(dy, x, into: dw)`;
/// - its bias gradient (Co channels) is `conv2dBackwardBias` under any geometry whose batch is N, outChannels
///   Co and outHeight·outWidth the image size of y, such as a 1×1 kernel over y's shape.
public struct ConvGeometry: Equatable, Sendable {
    /// Images in the batch, N.
    public var batch: Int
    /// Channels of the input, C.
    public var inChannels: Int
    /// Input height, H.
    public var inHeight: Int
    /// Input width, W.
    public var inWidth: Int
    /// Channels of the output, O.
    public var outChannels: Int
    /// Kernel height, kh.
    public var kernelHeight: Int
    /// Kernel width, kw.
    public var kernelWidth: Int
    /// Vertical stride, s_h.
    public var strideH: Int
    /// Horizontal stride, s_w.
    public var strideW: Int
    /// Zero rows added above and below the input, p_h.
    public var padH: Int
    /// Zero columns added left and right of the input, p_w.
    public var padW: Int

    /// A geometry from the input shape (N, C, H, W), the output channels, and (height, width) pairs for the
    /// kernel, stride and padding.
    public init(batch: Int, inChannels: Int, inHeight: Int, inWidth: Int, outChannels: Int,
                kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0)) {
        self.batch = batch
        self.inChannels = inChannels
        self.inHeight = inHeight
        self.inWidth = inWidth
        self.outChannels = outChannels
        (kernelHeight, kernelWidth) = kernel
        (strideH, strideW) = stride
        (padH, padW) = padding
    }

    /// The geometry that runs `ConvTranspose2d(inChannels → outChannels, kernel, stride, padding)` on an
    /// input of N×inChannels×inHeight×inWidth (see the type's documentation): a convolution from the transposed
    /// output, of height (inHeight − 1)·s_h − 2p_h + kh and width likewise, back to the transposed input.
    public static func transposed(batch: Int, inChannels: Int, inHeight: Int, inWidth: Int, outChannels: Int,
                                  kernel: (Int, Int), stride: (Int, Int) = (1, 1),
                                  padding: (Int, Int) = (0, 0)) -> ConvGeometry {
        ConvGeometry(batch: batch, inChannels: outChannels,
                     inHeight: (inHeight - 1) * stride.0 - 2 * padding.0 + kernel.0,
                     inWidth: (inWidth - 1) * stride.1 - 2 * padding.1 + kernel.1,
                     outChannels: inChannels, kernel: kernel, stride: stride, padding: padding)
    }

    /// True when the sizes are non-negative, kernel and stride positive, padding non-negative, and the kernel
    /// fits inside the padded input (H + 2p ≥ k). The primitives require a valid geometry.
    public var isValid: Bool {
        batch >= 0 && inChannels >= 0 && inHeight >= 0 && inWidth >= 0 && outChannels >= 0
            && kernelHeight > 0 && kernelWidth > 0 && strideH > 0 && strideW > 0 && padH >= 0 && padW >= 0
            && inHeight + 2 * padH >= kernelHeight && inWidth + 2 * padW >= kernelWidth
    }

    /// ⌊(H + 2p − k) / s⌋ + 1.
    public var outHeight: Int { (inHeight + 2 * padH - kernelHeight) / strideH + 1 }
    /// ⌊(W + 2p − k) / s⌋ + 1.
    public var outWidth: Int { (inWidth + 2 * padW - kernelWidth) / strideW + 1 }
    /// Elements of the input tensor, N·C·H·W.
    public var inputCount: Int { batch * inChannels * inHeight * inWidth }
    /// Elements of the output tensor, N·O·Ho·Wo.
    public var outputCount: Int { batch * outChannels * outHeight * outWidth }
    /// Elements of the weight, O·C·kh·kw.
    public var weightCount: Int { outChannels * inChannels * kernelHeight * kernelWidth }
    /// Multiply-adds of one forward pass.
    public var multiplyAdds: Int { outputCount * inChannels * kernelHeight * kernelWidth }
}

/// 2-D convolution and its gradients (cross-correlation, as in PyTorch).
public protocol ConvolutionPrimitives {
    /// y[n,o,i,j] = act(Σ_{c,u,v} w[o,c,u,v] · x[n,c, i·s−p+u, j·s−p+v] + bias[o]) ⊙ g′(Y[n,o,i,j]) (zero padding),
    /// the bias (O elements), activation and factor being the `epilogue`'s.
    ///
    /// The epilogue's `derivative` = (g, Y), when given, multiplies each element by g′ formed from Y (shaped like y)
    /// after the activation: a transposed convolution's input gradient when its input is the output of g.
    func conv2dForward(_ x: BufferSlice, weight: BufferSlice, into y: BufferSlice,
                       geometry: ConvGeometry, epilogue: ProductEpilogue)
    /// dx[n,c,h,w] = act(∂L/∂x[n,c,h,w] + dx_old[n,c,h,w] + bias[c]) ⊙ g′(Y[n,c,h,w]) given dy = ∂L/∂y, in that order:
    /// the gradient Σ_{o,u,v} w[o,c,u,v] · dy[n,o,i,j] over the taps that read x[n,c,h,w], plus the old dx when
    /// `accumulate` (otherwise its contents are ignored, NaN included), then the `epilogue`: plus its bias (C
    /// elements), its activation, its factor g′ formed from Y (shaped like dx).
    ///
    /// A convolution's input gradient uses the factor when its input is the output of g (dx = ∂L/∂x ⊙ g′); a
    /// transposed convolution's forward pass (see ``ConvGeometry``) uses the bias and activation.
    func conv2dBackwardInput(_ dy: BufferSlice, weight: BufferSlice, into dx: BufferSlice,
                             geometry: ConvGeometry, accumulate: Bool, epilogue: ProductEpilogue)
    /// dw[o,c,u,v] = Σ_{n,i,j} dy[n,o,i,j] · x[n,c, i·s−p+u, j·s−p+v], and, when `biasGradient` (O elements) is
    /// given, biasGradient[o] = Σ_{n,i,j} dy[n,o,i,j] in the same pass; each added to the old contents when
    /// `accumulate` (otherwise those are ignored, NaN included).
    func conv2dBackwardWeight(_ x: BufferSlice, _ dy: BufferSlice, into dw: BufferSlice, biasGradient: BufferSlice?,
                              geometry: ConvGeometry, accumulate: Bool)
    /// dbias[o] = Σ_{n,i,j} dy[n,o,i,j]; added when `accumulate`: the bias gradient of a transposed convolution,
    /// whose output gradient is the input (not the output gradient) of its mirrored convolution.
    func conv2dBackwardBias(_ dy: BufferSlice, into dbias: BufferSlice, geometry: ConvGeometry, accumulate: Bool)
}

extension ConvolutionPrimitives {
    /// y = act(conv(x, w) + bias): the forward pass without a derivative factor.
    public func conv2dForward(_ x: BufferSlice, weight: BufferSlice, bias: BufferSlice?, into y: BufferSlice,
                              geometry: ConvGeometry, activation: Activation) {
        conv2dForward(x, weight: weight, into: y, geometry: geometry,
                      epilogue: ProductEpilogue(bias: bias, activation: activation))
    }

    /// dx = ∂L/∂x (+ dx when `accumulate`): the input gradient without bias, activation or derivative factor.
    public func conv2dBackwardInput(_ dy: BufferSlice, weight: BufferSlice, into dx: BufferSlice,
                                    geometry: ConvGeometry, accumulate: Bool) {
        conv2dBackwardInput(dy, weight: weight, into: dx, geometry: geometry, accumulate: accumulate, epilogue: .none)
    }

    /// dw = ∂L/∂w (+ dw when `accumulate`): the weight gradient without the bias gradient.
    public func conv2dBackwardWeight(_ x: BufferSlice, _ dy: BufferSlice, into dw: BufferSlice,
                                     geometry: ConvGeometry, accumulate: Bool) {
        conv2dBackwardWeight(x, dy, into: dw, biasGradient: nil, geometry: geometry, accumulate: accumulate)
    }
}
