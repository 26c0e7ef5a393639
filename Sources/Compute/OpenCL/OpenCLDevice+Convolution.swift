/// Convolutions on an OpenCL device as implicit GEMMs (`Kernels/conv.cl`): the patch matrix is gathered from the
/// image where it is needed, never stored. ``ConvPlan`` picks the kernels per pass; ``ConvTiling`` sizes the
/// register-blocked ones.
extension OpenCLDevice: ConvolutionPrimitives {
    public func conv2dForward(_ x: BufferSlice, weight: BufferSlice, into y: BufferSlice,
                              geometry g: ConvGeometry, epilogue: ProductEpilogue) {
        conv2dForward(x, weight: weight, into: y, geometry: g, epilogue: epilogue, plan: .forward(g))
    }

    /// The forward pass computed as `plan` says (``ConvPlan/simple`` or ``ConvPlan/blocked``; tests run both).
    func conv2dForward(_ x: BufferSlice, weight: BufferSlice, into y: BufferSlice,
                       geometry g: ConvGeometry, epilogue: ProductEpilogue, plan: ConvPlan) {
        checkConvolution(g)
        precondition(x.count == g.inputCount && weight.count == g.weightCount && y.count == g.outputCount,
                     "conv2dForward operand sizes")
        if let bias = epilogue.bias { precondition(bias.count == g.outChannels, "conv2dForward bias size") }
        if let derivative = epilogue.derivative {
            precondition(derivative.output.count == g.outputCount, "conv2dForward derivative size")
        }
        var arguments: [Argument] = [.buffer(x), .buffer(weight), .buffer(y)]
        appendGeometry(g, to: &arguments)
        appendEpilogue(epilogue, to: &arguments)
        let columns = g.batch * g.outHeight * g.outWidth
        if plan == .simple {
            launch("conv2d_forward_tiled", global: [columns, g.outChannels], local: [Self.tiledSide, Self.tiledSide], arguments)
        } else {
            launchBlocked("conv2d_forward_blocked", columns: columns, rows: g.outChannels, depth: 1, arguments)
        }
    }

    public func conv2dBackwardInput(_ dy: BufferSlice, weight: BufferSlice, into dx: BufferSlice,
                                    geometry g: ConvGeometry, accumulate: Bool, epilogue: ProductEpilogue) {
        conv2dBackwardInput(dy, weight: weight, into: dx, geometry: g, accumulate: accumulate, epilogue: epilogue,
                            plan: .input(g))
    }

    /// The input gradient computed as `plan` says (``ConvPlan/simple`` or ``ConvPlan/blocked``; tests run both).
    /// The blocked kernel runs one implicit GEMM per stride phase (work-group dimension 2), over
    /// N·⌈H/s_h⌉·⌈W/s_w⌉ pixels at most. Either kernel applies the bias, activation and derivative factor as it
    /// writes dx.
    func conv2dBackwardInput(_ dy: BufferSlice, weight: BufferSlice, into dx: BufferSlice,
                             geometry g: ConvGeometry, accumulate: Bool, epilogue: ProductEpilogue, plan: ConvPlan) {
        checkConvolution(g)
        precondition(dy.count == g.outputCount && weight.count == g.weightCount && dx.count == g.inputCount,
                     "conv2dBackwardInput operand sizes")
        if let bias = epilogue.bias { precondition(bias.count == g.inChannels, "conv2dBackwardInput bias size") }
        if let derivative = epilogue.derivative {
            precondition(derivative.output.count == g.inputCount, "conv2dBackwardInput derivative size")
        }
        var arguments: [Argument] = [.buffer(dy), .buffer(weight), .buffer(dx)]
        appendGeometry(g, to: &arguments)
        arguments.append(.int(accumulate ? 1 : 0))
        appendEpilogue(epilogue, to: &arguments)
        if plan == .simple {
            launch("conv2d_backward_input_gather", global: [g.inputCount], local: [Self.elementGroup], arguments)
        } else {
            let phaseColumns = g.batch * ((g.inHeight + g.strideH - 1) / g.strideH) * ((g.inWidth + g.strideW - 1) / g.strideW)
            launchBlocked("conv2d_backward_input_blocked", columns: phaseColumns, rows: g.inChannels,
                          depth: g.strideH * g.strideW, arguments)
        }
    }

    public func conv2dBackwardWeight(_ x: BufferSlice, _ dy: BufferSlice, into dw: BufferSlice, biasGradient: BufferSlice?,
                                     geometry g: ConvGeometry, accumulate: Bool) {
        conv2dBackwardWeight(x, dy, into: dw, biasGradient: biasGradient, geometry: g, accumulate: accumulate,
                             plan: .weight(g, tiling: convTiling, computeUnits: info.computeUnits))
    }

    /// The weight gradient computed as `plan` says (``ConvPlan/blocked`` or ``ConvPlan/split(ranges:depth:)``;
    /// tests run both). The bias gradient is summed by the same kernel from the dy tiles it loads (and, split, by
    /// the same reduce kernel): no launch of its own.
    func conv2dBackwardWeight(_ x: BufferSlice, _ dy: BufferSlice, into dw: BufferSlice, biasGradient: BufferSlice?,
                              geometry g: ConvGeometry, accumulate: Bool, plan: ConvPlan) {
        checkConvolution(g)
        precondition(x.count == g.inputCount && dy.count == g.outputCount && dw.count == g.weightCount,
                     "conv2dBackwardWeight operand sizes")
        if let biasGradient { precondition(biasGradient.count == g.outChannels, "conv2dBackwardWeight bias gradient size") }
        precondition(plan != .simple, "the weight gradient has no simple plan")
        let k = g.inChannels * g.kernelHeight * g.kernelWidth, positions = g.batch * g.outHeight * g.outWidth
        let hasBias = Argument.int(biasGradient == nil ? 0 : 1)
        // x, dy, target, the geometry, accumulate, positions per range, row sums, hasBias
        func arguments(_ target: BufferSlice, accumulate: Bool, positions: Int, rowSums: BufferSlice?) -> [Argument] {
            var list: [Argument] = [.buffer(x), .buffer(dy), .buffer(target)]
            appendGeometry(g, to: &list)
            list += [.int(accumulate ? 1 : 0), .int(positions), optional(rowSums), hasBias]
            return list
        }
        // At least one column of tiles, so that the bias gradient is formed even when K = 0.
        let columns = max(k, 1)
        func whole() {
            launchBlocked("conv2d_backward_weight_blocked", columns: columns, rows: g.outChannels, depth: 1,
                          arguments(dw, accumulate: accumulate, positions: max(positions, 1), rowSums: biasGradient))
        }
        guard case .split(let ranges, let depth) = plan, ranges > 1 else { return whole() }
        // The partial gradients go to the workspace (ranges blocks of dw, then ranges blocks of the bias gradient),
        // held from the first kernel to the last.
        convWorkspace.lock.lock()
        defer { convWorkspace.lock.unlock() }
        let biasPartials = biasGradient == nil ? 0 : ranges * g.outChannels
        guard let partials = convWorkspace.slice(count: ranges * g.weightCount + biasPartials, on: self) else {
            // No memory for the workspace: one range needs none.
            return whole()
        }
        let rowSums = biasGradient.map { _ in partials.buffer.slice(partials.offset + ranges * g.weightCount, biasPartials) }
        launchBlocked("conv2d_backward_weight_blocked", columns: columns, rows: g.outChannels, depth: ranges,
                      arguments(partials, accumulate: false, positions: depth, rowSums: rowSums))
        launch("conv2d_backward_weight_reduce", global: [max(g.weightCount, biasPartials == 0 ? 0 : g.outChannels)], [
            .buffer(partials), .buffer(dw), .int(g.weightCount), .int(ranges), .int(accumulate ? 1 : 0),
            optional(biasGradient), hasBias, .int(g.outChannels),
        ])
    }

    public func conv2dBackwardBias(_ dy: BufferSlice, into dbias: BufferSlice, geometry g: ConvGeometry, accumulate: Bool) {
        checkConvolution(g)
        precondition(dy.count == g.outputCount && dbias.count == g.outChannels, "conv2dBackwardBias operand sizes")
        let group = Self.reductionGroup
        launch("conv2d_backward_bias", global: [g.outChannels * group], local: [group], [
            .buffer(dy), .buffer(dbias), .int(g.batch), .int(g.outChannels), .int(g.outHeight * g.outWidth),
            .int(accumulate ? 1 : 0),
        ])
    }

    /// Enqueues a register-blocked kernel over ⌈columns/tileN⌉×⌈rows/tileM⌉×`depth` work groups.
    private func launchBlocked(_ name: String, columns: Int, rows: Int, depth: Int, _ arguments: [Argument]) {
        launch(name, global: convTiling.global(columns: columns, rows: rows, depth: depth), local: convTiling.local,
               arguments)
    }

    /// Appends N, C, H, W, O, KH, KW, SH, SW, PH, PW, HO, WO: the geometry as every convolution kernel takes it
    /// (with room for 16 arguments after it).
    private func appendGeometry(_ g: ConvGeometry, to list: inout [Argument]) {
        list.reserveCapacity(list.count + 29)
        for value in [g.batch, g.inChannels, g.inHeight, g.inWidth, g.outChannels, g.kernelHeight, g.kernelWidth,
                      g.strideH, g.strideW, g.padH, g.padW, g.outHeight, g.outWidth] {
            list.append(.int(value))
        }
    }

    private func checkConvolution(_ g: ConvGeometry) {
        precondition(g.isValid, "invalid convolution geometry \(g)")
        precondition(max(g.inputCount, g.outputCount, g.weightCount * ConvPlan.maximumSplits) <= Int(Int32.max),
                     "convolution too large for 32-bit kernel indices")
    }
}
