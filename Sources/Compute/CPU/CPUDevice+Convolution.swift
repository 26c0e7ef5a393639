import CBLAS

/// Convolutions on the CPU as im2col + OpenBLAS, a group of samples per product.
///
/// For sample n the patch matrix `col_n` is K×P with K = C·kh·kw (rows ordered c, u, v like the OIHW weight)
/// and P = Ho·Wo, col_n[(c,u,v), (i,j)] = x[n, c, i·s−p+u, j·s−p+v] (0 outside the image). A group of G
/// consecutive samples shares one K×(G·P) patch matrix [col_n₀ … col_n₀₊G₋₁] (sample s in columns s·P..<(s+1)·P),
/// and dY_group = [dy_n₀ … dy_n₀₊G₋₁] is O×(G·P), so each product has G·P columns instead of P. Then
///
/// - forward: Y_group = W·col_group (W seen as O×K), copied to the NCHW outputs by the bias + activation epilogue;
/// - input gradient: dcol_group = Wᵀ·dY_group, each sample's columns scattered back onto dx_n (col2im);
/// - weight gradient: dW = Σ_groups dY_group·col_groupᵀ.
///
/// G is chosen so that G·P reaches about ``ConvShape/targetColumns`` (one sample when P alone does). The batch
/// is spread over the cores in contiguous blocks, one per worker (OpenBLAS runs one thread per call: see
/// ``BLASConfiguration``); each worker owns its scratch, allocated for the call: (K + O)·G·P floats per worker
/// (K·P when G = 1).
/// A 1×1 kernel with stride 1 and no padding skips im2col and takes one sample per product (the input image is
/// its own patch matrix).
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
        eachSampleGroup(shape) { _, first, count, scratch in
            let columns = count * P
            let yn = yp + first * shape.outputPerSample
            // One sample: the product lands in y_n itself; several: in the scratch after the patches.
            let product = count == 1 ? yn : scratch + K * shape.group * P
            if K == 0 {
                product.update(repeating: 0, count: O * columns)
            } else {
                let patches = shape.pointwise ? UnsafePointer(xp + first * shape.inputPerSample)
                                              : UnsafePointer(shape.im2col(xp, samples: first, count, into: scratch))
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(O), Int32(columns), Int32(K),
                            1, wp, Int32(K), patches, Int32(columns), 0, product, Int32(columns))
            }
            if count == 1 && bp == nil && activation == .identity { return }
            // product [O][count][P] → y [count][O][P], with the bias and activation
            for s in 0..<count {
                for o in 0..<O {
                    let source = product + (o * count + s) * P, target = yn + s * shape.outputPerSample + o * P
                    let b = bp?[o] ?? 0
                    switch activation {
                    case .identity: for q in 0..<P { target[q] = source[q] + b }
                    case .relu: for q in 0..<P { target[q] = max(source[q] + b, 0) }
                    default: for q in 0..<P { target[q] = ActivationMath.apply(source[q] + b, activation) }
                    }
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
        eachSampleGroup(shape) { _, first, count, scratch in
            let dyn = dyp + first * shape.outputPerSample, dxn = dxp + first * shape.inputPerSample
            if shape.pointwise && O > 0 {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(K), Int32(P), Int32(O),
                            1, wp, Int32(K), dyn, Int32(P), accumulate ? 1 : 0, dxn, Int32(P))
                return
            }
            if !accumulate { dxn.update(repeating: 0, count: count * shape.inputPerSample) }
            guard O > 0, P > 0 else { return }
            let columns = count * P, dcol = scratch
            let gradients = shape.gather(dyn, count, into: scratch + K * shape.group * P)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(K), Int32(columns), Int32(O),
                        1, wp, Int32(K), gradients, Int32(columns), 0, dcol, Int32(columns))
            for s in 0..<count {
                shape.col2imAdding(dcol + s * P, rowStride: columns, into: dxn + s * shape.inputPerSample)
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
        // Worker 0 sums into dw itself; the others into partial sums added at the end. A worker's first group
        // overwrites its target (or adds to dw when accumulating), later groups add.
        let workers = shape.workers
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: max((workers - 1) * O * K, 1))
        defer { partials.deallocate() }
        eachSampleGroup(shape) { worker, first, count, scratch in
            let target = worker == 0 ? dwp : partials + (worker - 1) * O * K
            let beta: Float = first == shape.samples(of: worker).lowerBound && !(worker == 0 && accumulate) ? 0 : 1
            let columns = count * P
            let patches = shape.pointwise ? UnsafePointer(xp + first * shape.inputPerSample)
                                          : UnsafePointer(shape.im2col(xp, samples: first, count, into: scratch))
            let gradients = shape.gather(dyp + first * shape.outputPerSample, count, into: scratch + K * shape.group * P)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(O), Int32(K), Int32(columns),
                        1, gradients, Int32(columns), patches, Int32(columns), beta, target, Int32(K))
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

    /// Runs `body(worker, first, count, scratch)` on groups of at most ``ConvShape/group`` consecutive samples,
    /// first..<first + count, over contiguous blocks of the batch, one block per worker, each worker with its own
    /// scratch: (K + O)·group·P floats, K·P for groups of one sample, none for a pointwise convolution.
    private func eachSampleGroup(_ shape: ConvShape, _ body: (Int, Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        guard shape.geometry.batch > 0 else { return }
        let scratch = shape.pointwise ? 0 : (shape.group == 1 ? shape.k * shape.p
                                                               : (shape.k + shape.geometry.outChannels) * shape.group * shape.p)
        func run(_ worker: Int) {
            let samples = shape.samples(of: worker)
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(scratch, 1))
            defer { buffer.deallocate() }
            for first in stride(from: samples.lowerBound, to: samples.upperBound, by: shape.group) {
                body(worker, first, min(shape.group, samples.upperBound - first), buffer)
            }
        }
        if shape.workers == 1 {
            run(0)
        } else {
            Parallel.forEach(shape.workers, costPerItem: .max) { run($0) }
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
    /// Samples per product: enough for about ``targetColumns`` columns, one for a pointwise convolution,
    /// and few enough that a worker's scratch stays under ``scratchLimit`` floats.
    let group: Int

    /// Columns a product aims for (G·P): past a few hundred, OpenBLAS runs near its peak.
    static let targetColumns = 512
    /// Floats of scratch per worker that bound the group size ((K + O)·G·P).
    static let scratchLimit = 1 << 21

    init(_ g: ConvGeometry) {
        precondition(g.isValid, "invalid convolution geometry \(g)")
        geometry = g
        k = g.inChannels * g.kernelHeight * g.kernelWidth
        p = g.outHeight * g.outWidth
        inputPerSample = g.inChannels * g.inHeight * g.inWidth
        outputPerSample = g.outChannels * p
        pointwise = g.kernelHeight == 1 && g.kernelWidth == 1 && g.strideH == 1 && g.strideW == 1 && g.padH == 0 && g.padW == 0
        workers = max(1, min(Parallel.cores, g.batch))
        let perSample = max((k + g.outChannels) * p, 1)
        group = pointwise ? 1 : max(1, min((Self.targetColumns + max(p, 1) - 1) / max(p, 1), Self.scratchLimit / perSample,
                                           (g.batch + workers - 1) / workers))
    }

    /// The samples of one worker's block (workers ≤ batch, so no block is empty).
    func samples(of worker: Int) -> Range<Int> {
        (worker * geometry.batch / workers)..<((worker + 1) * geometry.batch / workers)
    }

    /// Copies the gradients dy of `count` consecutive samples (each O×P, NCHW) to `into` as one O×(count·P)
    /// matrix, sample s in columns s·P..<(s + 1)·P, and returns it (`dy` itself for one sample).
    func gather(_ dy: UnsafePointer<Float>, _ count: Int, into matrix: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        guard count > 1 else { return dy }
        let O = geometry.outChannels
        for o in 0..<O {
            for s in 0..<count {
                (matrix + (o * count + s) * p).update(from: dy + s * outputPerSample + o * p, count: p)
            }
        }
        return UnsafePointer(matrix)
    }

    /// Fills the K×(count·P) patch matrix `col` with the patches of samples first..<first + count of the batch
    /// `x` (each C×H×W), sample s in columns s·P..<(s + 1)·P, and returns it.
    func im2col(_ x: UnsafePointer<Float>, samples first: Int, _ count: Int,
                into col: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        for s in 0..<count {
            im2col(x + (first + s) * inputPerSample, into: col + s * p, rowStride: count * p)
        }
        return col
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

    /// Fills the P columns of `col` (K rows, `rowStride` floats apart) with the patches of one image `x` (C×H×W).
    func im2col(_ x: UnsafePointer<Float>, into col: UnsafeMutablePointer<Float>, rowStride: Int) {
        let g = geometry
        let (H, W, Ho, Wo) = (g.inHeight, g.inWidth, g.outHeight, g.outWidth)
        let (sh, sw, ph, pw) = (g.strideH, g.strideW, g.padH, g.padW)
        for c in 0..<g.inChannels {
            for u in 0..<g.kernelHeight {
                let rows = Self.validRange(tap: u, pad: ph, stride: sh, size: H, count: Ho)
                for v in 0..<g.kernelWidth {
                    let cols = Self.validRange(tap: v, pad: pw, stride: sw, size: W, count: Wo)
                    let plane = col + ((c * g.kernelHeight + u) * g.kernelWidth + v) * rowStride
                    // Rows are short (Wo is often 7 or 14): plain loops, no memset calls per row.
                    for q in 0..<(rows.lowerBound * Wo) { plane[q] = 0 }
                    for i in rows {
                        let dst = plane + i &* Wo
                        let src = x + ((c &* H &+ i &* sh &- ph &+ u) &* W &+ v &- pw)
                        for j in 0..<cols.lowerBound { dst[j] = 0 }
                        // Wrapping index arithmetic (no overflow checks per row or element: the offsets stay inside
                        // the checked image); stride 2 as a constant, which vectorizes as an interleaved load.
                        switch sw {
                        case 1: for j in cols { dst[j] = src[j] }
                        case 2: for j in cols { dst[j] = src[2 &* j] }
                        default: for j in cols { dst[j] = src[j &* sw] }
                        }
                        for j in cols.upperBound..<Wo { dst[j] = 0 }
                    }
                    for q in (rows.upperBound * Wo)..<p { plane[q] = 0 }
                }
            }
        }
    }

    /// Adds the patch matrix `col` (K×P, rows `rowStride` floats apart) back onto the image `x` (C×H×W):
    /// the adjoint of ``im2col(_:into:rowStride:)``.
    func col2imAdding(_ col: UnsafePointer<Float>, rowStride: Int, into x: UnsafeMutablePointer<Float>) {
        let g = geometry
        let (H, W, Ho, Wo) = (g.inHeight, g.inWidth, g.outHeight, g.outWidth)
        let (sh, sw, ph, pw) = (g.strideH, g.strideW, g.padH, g.padW)
        for c in 0..<g.inChannels {
            for u in 0..<g.kernelHeight {
                let rows = Self.validRange(tap: u, pad: ph, stride: sh, size: H, count: Ho)
                for v in 0..<g.kernelWidth {
                    let cols = Self.validRange(tap: v, pad: pw, stride: sw, size: W, count: Wo)
                    let plane = col + ((c * g.kernelHeight + u) * g.kernelWidth + v) * rowStride
                    for i in rows {
                        let src = plane + i &* Wo
                        let dst = x + ((c &* H &+ i &* sh &- ph &+ u) &* W &+ v &- pw)
                        switch sw {
                        case 1: for j in cols { dst[j] += src[j] }
                        case 2: for j in cols { dst[2 &* j] += src[j] }
                        default: for j in cols { dst[j &* sw] += src[j] }
                        }
                    }
                }
            }
        }
    }
}
