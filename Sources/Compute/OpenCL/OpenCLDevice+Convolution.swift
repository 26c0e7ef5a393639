/// Convolutions on an OpenCL device as implicit-GEMM and gather kernels (`Kernels/conv.cl`): the patch
/// matrix is read from the image where it is needed, never stored.
extension OpenCLDevice: ConvolutionPrimitives {
    public func conv2dForward(_ x: BufferSlice, weight: BufferSlice, bias: BufferSlice?, into y: BufferSlice,
                              geometry g: ConvGeometry, activation: Activation) {
        checkConvolution(g)
        precondition(x.count == g.inputCount && weight.count == g.weightCount && y.count == g.outputCount,
                     "conv2dForward operand sizes")
        if let bias { precondition(bias.count == g.outChannels, "conv2dForward bias size") }
        let tile = 16
        launch("conv2d_forward", global: [g.batch * g.outHeight * g.outWidth, g.outChannels], local: [tile, tile],
               [.buffer(x), .buffer(weight), optional(bias), .buffer(y)] + geometryArguments(g)
                   + [.int(bias == nil ? 0 : 1), .int(Int(activation.code)), .float(activation.parameter)])
    }

    public func conv2dBackwardInput(_ dy: BufferSlice, weight: BufferSlice, into dx: BufferSlice,
                                    geometry g: ConvGeometry, accumulate: Bool) {
        checkConvolution(g)
        precondition(dy.count == g.outputCount && weight.count == g.weightCount && dx.count == g.inputCount,
                     "conv2dBackwardInput operand sizes")
        launch("conv2d_backward_input", global: [g.inputCount], local: [64],
               [.buffer(dy), .buffer(weight), .buffer(dx)] + geometryArguments(g) + [.int(accumulate ? 1 : 0)])
    }

    public func conv2dBackwardWeight(_ x: BufferSlice, _ dy: BufferSlice, into dw: BufferSlice,
                                     geometry g: ConvGeometry, accumulate: Bool) {
        checkConvolution(g)
        precondition(x.count == g.inputCount && dy.count == g.outputCount && dw.count == g.weightCount,
                     "conv2dBackwardWeight operand sizes")
        let group = 64
        launch("conv2d_backward_weight", global: [g.weightCount * group], local: [group],
               [.buffer(x), .buffer(dy), .buffer(dw)] + geometryArguments(g) + [.int(accumulate ? 1 : 0)])
    }

    public func conv2dBackwardBias(_ dy: BufferSlice, into dbias: BufferSlice, geometry g: ConvGeometry, accumulate: Bool) {
        checkConvolution(g)
        precondition(dy.count == g.outputCount && dbias.count == g.outChannels, "conv2dBackwardBias operand sizes")
        let group = 256
        launch("conv2d_backward_bias", global: [g.outChannels * group], local: [group], [
            .buffer(dy), .buffer(dbias), .int(g.batch), .int(g.outChannels), .int(g.outHeight * g.outWidth),
            .int(accumulate ? 1 : 0),
        ])
    }

    /// N, C, H, W, O, KH, KW, SH, SW, PH, PW, HO, WO: the geometry as every convolution kernel takes it.
    private func geometryArguments(_ g: ConvGeometry) -> [Argument] {
        [g.batch, g.inChannels, g.inHeight, g.inWidth, g.outChannels, g.kernelHeight, g.kernelWidth,
         g.strideH, g.strideW, g.padH, g.padW, g.outHeight, g.outWidth].map { .int($0) }
    }

    private func checkConvolution(_ g: ConvGeometry) {
        precondition(g.isValid, "invalid convolution geometry \(g)")
        precondition(max(g.inputCount, g.outputCount, g.weightCount * 64) <= Int(Int32.max),
                     "convolution too large for 32-bit kernel indices")
    }
}
