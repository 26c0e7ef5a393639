import CBLAS

/// Convolutions on the CPU as im2col + OpenBLAS, one sample at a time.
///
/// For sample n the patch matrix `col` is K×P with K = C·kh·kw (rows ordered c, u, v like the OIHW weight)
/// and P = Ho·Wo, col[(c,u,v), (i,j)] = x[n, c, i·s−p+u, j·s−p+v] (0 outside the image). Then
///
/// - forward: y_n = W·col (W seen as O×K), followed by the bias + activation epilogue;
/// - input gradient: dcol = Wᵀ·dy_n, scattered back onto dx_n (col2im);
/// - weight gradient: dW = Σ_n dy_n·col_nᵀ.
///
/// The batch is spread over the cores in contiguous blocks, one per worker (OpenBLAS runs one thread per call:
/// see ``BLASConfiguration``); each worker owns its patch scratch, allocated for the call: K·P floats per worker.
/// A 1×1 kernel with stride 1 and no padding skips im2col.
extension CPUDevice: ConvolutionPrimitives {
    public func conv2dForward(_ x: BufferSlice, weight: BufferSlice, bias: BufferSlice?, into y: BufferSlice,
                              geometry g: ConvGeometry, activation: Activation) {
        check(x, count: g.inputCount)
        check(weight, count: g.weightCount)
        check(y, count: g.outputCount)
        if let bias { check(bias, count: g.outChannels) }
        let shape = ConvShape(g)
        guard g.outputCount > 0 else { return }
        let xp = x.floats, wp = weight.floats, yp = y.floats, bp = bias?.floats
        let (O, K, P) = (g.outChannels, shape.k, shape.p)
        eachSampleBlock(shape, scratch: shape.pointwise ? 0 : K * P) { _, samples, col in
            for n in samples {
                let xn = xp + n * shape.inputPerSample, yn = yp + n * shape.outputPerSample
                if K == 0 {
                    yn.update(repeating: 0, count: O * P)
                } else {
                    let patches = shape.pointwise ? UnsafePointer(xn) : UnsafePointer(shape.im2col(xn, into: col))
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(O), Int32(P), Int32(K),
                                1, wp, Int32(K), patches, Int32(P), 0, yn, Int32(P))
                }
                if bp == nil && activation == .identity { continue }
                for o in 0..<O {
                    let row = yn + o * P, b = bp?[o] ?? 0
                    for q in 0..<P { row[q] = ActivationMath.apply(row[q] + b, activation) }
                }
            }
        }
    }

    public func conv2dBackwardInput(_ dy: BufferSlice, weight: BufferSlice, into dx: BufferSlice,
                                    geometry g: ConvGeometry, accumulate: Bool) {
        check(dy, count: g.outputCount)
        check(weight, count: g.weightCount)
        check(dx, count: g.inputCount)
        let shape = ConvShape(g)
        guard g.inputCount > 0 else { return }
        let dyp = dy.floats, wp = weight.floats, dxp = dx.floats
        let (O, K, P) = (g.outChannels, shape.k, shape.p)
        eachSampleBlock(shape, scratch: shape.pointwise ? 0 : K * P) { _, samples, dcol in
            for n in samples {
                let dyn = dyp + n * shape.outputPerSample, dxn = dxp + n * shape.inputPerSample
                if shape.pointwise && O > 0 {
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(K), Int32(P), Int32(O),
                                1, wp, Int32(K), dyn, Int32(P), accumulate ? 1 : 0, dxn, Int32(P))
                    continue
                }
                if !accumulate { dxn.update(repeating: 0, count: shape.inputPerSample) }
                guard O > 0, P > 0 else { continue }
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(K), Int32(P), Int32(O),
                            1, wp, Int32(K), dyn, Int32(P), 0, dcol, Int32(P))
                shape.col2imAdding(dcol, into: dxn)
            }
        }
    }

    public func conv2dBackwardWeight(_ x: BufferSlice, _ dy: BufferSlice, into dw: BufferSlice,
                                     geometry g: ConvGeometry, accumulate: Bool) {
        check(x, count: g.inputCount)
        check(dy, count: g.outputCount)
        check(dw, count: g.weightCount)
        let shape = ConvShape(g)
        guard g.weightCount > 0 else { return }
        let xp = x.floats, dyp = dy.floats, dwp = dw.floats
        let (O, K, P) = (g.outChannels, shape.k, shape.p)
        if g.batch == 0 || P == 0 {
            if !accumulate { dwp.update(repeating: 0, count: g.weightCount) }
            return
        }
        // Worker 0 sums into dw itself; the others into partial sums added at the end.
        let workers = shape.workers
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: max((workers - 1) * O * K, 1))
        defer { partials.deallocate() }
        eachSampleBlock(shape, scratch: shape.pointwise ? 0 : K * P) { worker, samples, col in
            let target = worker == 0 ? dwp : partials + (worker - 1) * O * K
            var beta: Float = worker == 0 && accumulate ? 1 : 0
            for n in samples {
                let xn = xp + n * shape.inputPerSample, dyn = dyp + n * shape.outputPerSample
                let patches = shape.pointwise ? UnsafePointer(xn) : UnsafePointer(shape.im2col(xn, into: col))
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(O), Int32(K), Int32(P),
                            1, dyn, Int32(P), patches, Int32(P), beta, target, Int32(K))
                beta = 1
            }
        }
        for worker in 1..<workers {
            let partial = partials + (worker - 1) * O * K
            for i in 0..<(O * K) { dwp[i] += partial[i] }
        }
    }

    public func conv2dBackwardBias(_ dy: BufferSlice, into dbias: BufferSlice, geometry g: ConvGeometry, accumulate: Bool) {
        check(dy, count: g.outputCount)
        check(dbias, count: g.outChannels)
        let shape = ConvShape(g)
        let dyp = dy.floats, db = dbias.floats
        let (O, P) = (g.outChannels, shape.p)
        Parallel.forEach(O, costPerItem: g.batch * P) { o in
            var total = 0.0
            for n in 0..<g.batch { total += Double(Self.sum(dyp + n * shape.outputPerSample + o * P, count: P)) }
            db[o] = (accumulate ? db[o] : 0) + Float(total)
        }
    }

    /// Σ p[0..<count] in eight-lane vector partial sums.
    private static func sum(_ p: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            lanes += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var total = lanes.sum()
        while i < count {
            total += p[i]
            i += 1
        }
        return total
    }

    /// Runs `body(worker, samples, scratch)` over contiguous blocks of the batch, one block per worker,
    /// each worker with its own scratch of `scratch` floats.
    private func eachSampleBlock(_ shape: ConvShape, scratch: Int,
                                 _ body: (Int, Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
        let batch = shape.geometry.batch, workers = shape.workers
        guard batch > 0 else { return }
        func run(_ worker: Int) {
            // workers ≤ batch, so no block is empty.
            let samples = (worker * batch / workers)..<((worker + 1) * batch / workers)
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(scratch, 1))
            defer { buffer.deallocate() }
            body(worker, samples, buffer)
        }
        if workers == 1 {
            run(0)
        } else {
            Parallel.forEach(workers, costPerItem: .max) { run($0) }
        }
    }
}

/// Derived sizes of a ``ConvGeometry`` and the im2col / col2im loops of the CPU backend.
private struct ConvShape {
    let geometry: ConvGeometry
    /// Rows of the patch matrix, C·kh·kw.
    let k: Int
    /// Output positions per image, Ho·Wo.
    let p: Int
    let inputPerSample: Int
    let outputPerSample: Int
    /// A 1×1 kernel, stride 1, no padding: the input image is its own patch matrix.
    let pointwise: Bool
    /// Threads sharing the batch: one per core (at most one per sample).
    let workers: Int

    init(_ g: ConvGeometry) {
        precondition(g.isValid, "invalid convolution geometry \(g)")
        geometry = g
        k = g.inChannels * g.kernelHeight * g.kernelWidth
        p = g.outHeight * g.outWidth
        inputPerSample = g.inChannels * g.inHeight * g.inWidth
        outputPerSample = g.outChannels * p
        pointwise = g.kernelHeight == 1 && g.kernelWidth == 1 && g.strideH == 1 && g.strideW == 1 && g.padH == 0 && g.padW == 0
        workers = max(1, min(Parallel.cores, g.batch))
    }

    /// The outputs t in 0..<count whose input coordinate t·stride − pad + tap lies in 0..<size.
    @inline(__always)
    static func validRange(tap: Int, pad: Int, stride: Int, size: Int, count: Int) -> Range<Int> {
        let first = pad - tap > 0 ? (pad - tap + stride - 1) / stride : 0
        let lastInput = size - 1 + pad - tap
        let end = lastInput < 0 ? 0 : lastInput / stride + 1
        let lo = min(first, count)
        return lo..<max(lo, min(end, count))
    }

    /// Fills `col` (K×P) with the patches of one image `x` (C×H×W) and returns it.
    func im2col(_ x: UnsafePointer<Float>, into col: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        let g = geometry
        let (H, W, Ho, Wo) = (g.inHeight, g.inWidth, g.outHeight, g.outWidth)
        let (sh, sw, ph, pw) = (g.strideH, g.strideW, g.padH, g.padW)
        for c in 0..<g.inChannels {
            for u in 0..<g.kernelHeight {
                let rows = Self.validRange(tap: u, pad: ph, stride: sh, size: H, count: Ho)
                for v in 0..<g.kernelWidth {
                    let cols = Self.validRange(tap: v, pad: pw, stride: sw, size: W, count: Wo)
                    let plane = col + ((c * g.kernelHeight + u) * g.kernelWidth + v) * p
                    // Rows are short (Wo is often 7 or 14): plain loops, no memset calls per row.
                    for q in 0..<(rows.lowerBound * Wo) { plane[q] = 0 }
                    for i in rows {
                        let dst = plane + i * Wo
                        let src = x + (c * H + i * sh - ph + u) * W + v - pw
                        for j in 0..<cols.lowerBound { dst[j] = 0 }
                        if sw == 1 {
                            for j in cols { dst[j] = src[j] }
                        } else {
                            for j in cols { dst[j] = src[j * sw] }
                        }
                        for j in cols.upperBound..<Wo { dst[j] = 0 }
                    }
                    for q in (rows.upperBound * Wo)..<p { plane[q] = 0 }
                }
            }
        }
        return col
    }

    /// Adds the patch matrix `col` (K×P) back onto the image `x` (C×H×W): the adjoint of ``im2col``.
    func col2imAdding(_ col: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>) {
        let g = geometry
        let (H, W, Ho, Wo) = (g.inHeight, g.inWidth, g.outHeight, g.outWidth)
        let (sh, sw, ph, pw) = (g.strideH, g.strideW, g.padH, g.padW)
        for c in 0..<g.inChannels {
            for u in 0..<g.kernelHeight {
                let rows = Self.validRange(tap: u, pad: ph, stride: sh, size: H, count: Ho)
                for v in 0..<g.kernelWidth {
                    let cols = Self.validRange(tap: v, pad: pw, stride: sw, size: W, count: Wo)
                    let plane = col + ((c * g.kernelHeight + u) * g.kernelWidth + v) * p
                    for i in rows {
                        let src = plane + i * Wo
                        let dst = x + (c * H + i * sh - ph + u) * W + v - pw
                        if sw == 1 {
                            for j in cols { dst[j] += src[j] }
                        } else {
                            for j in cols { dst[j * sw] += src[j] }
                        }
                    }
                }
            }
        }
    }
}
