/// The shape of a 2-D convolution over NCHW tensors with an OIHW weight (PyTorch's layouts).
///
/// A transposed convolution uses the same geometry with its roles swapped: its forward pass is the
/// input gradient of the convolution whose input is the transposed convolution's output.
public struct ConvGeometry: Equatable, Sendable {
    public var batch: Int
    public var inChannels: Int
    public var inHeight: Int
    public var inWidth: Int
    public var outChannels: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var strideH: Int
    public var strideW: Int
    public var padH: Int
    public var padW: Int

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
    /// y[n,o,i,j] = act(Σ_{c,u,v} w[o,c,u,v] · x[n,c, i·s−p+u, j·s−p+v] + bias[o]) (zero padding).
    func conv2dForward(_ x: BufferSlice, weight: BufferSlice, bias: BufferSlice?, into y: BufferSlice,
                       geometry: ConvGeometry, activation: Activation)
    /// dx = ∂L/∂x given dy = ∂L/∂y; added to dx when `accumulate`.
    func conv2dBackwardInput(_ dy: BufferSlice, weight: BufferSlice, into dx: BufferSlice,
                             geometry: ConvGeometry, accumulate: Bool)
    /// dw = ∂L/∂w; added to dw when `accumulate`.
    func conv2dBackwardWeight(_ x: BufferSlice, _ dy: BufferSlice, into dw: BufferSlice,
                              geometry: ConvGeometry, accumulate: Bool)
    /// dbias[o] = Σ_{n,i,j} dy[n,o,i,j]; added when `accumulate`.
    func conv2dBackwardBias(_ dy: BufferSlice, into dbias: BufferSlice, geometry: ConvGeometry, accumulate: Bool)
}
