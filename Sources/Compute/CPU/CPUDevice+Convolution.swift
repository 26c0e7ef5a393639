import CBLAS

/// Convolutions on the CPU as patch rows + OpenBLAS, a group of samples per product.
///
/// For sample n the patch matrix `rows_n` is P×K with P = Ho·Wo output positions and K = C·kh·kw (columns ordered
/// c, u, v like the OIHW weight): rows_n[(i,j), (c,u,v)] = x[n, c, i·s−p+u, j·s−p+v] (0 outside the image), so
/// each row holds C·kh runs of kw consecutive input pixels, copied as short vectors. A group of G consecutive
/// samples shares one (G·P)×K matrix [rows_n₀; …; rows_n₀₊G₋₁] (sample s in rows s·P..<(s+1)·P), and
/// dY_group = [dy_n₀ … dy_n₀₊G₋₁] is O×(G·P), so each product has G·P columns instead of P. Then
///
/// - forward: Y_group = W·rows_groupᵀ (W seen as O×K), copied to the NCHW outputs by the bias + activation epilogue;
/// - input gradient: drows_group = dY_groupᵀ·W, each sample's rows added back onto dx_n (the adjoint copy);
/// - weight gradient: dW = Σ_groups dY_group·rows_group, and the bias gradient Σ dY_group's rows beside it.
///
/// The forward pass and the input gradient finish each sample (bias, activation, derivative factor) right after
/// its product or its patch rows are added back, while it is in cache.
///
/// G is chosen so that G·P reaches about ``ConvShape/targetColumns`` (one sample when P alone does). The batch
/// is spread over the cores in contiguous blocks, one per worker (OpenBLAS runs one thread per call: see
/// ``BLASConfiguration``); each worker owns its scratch, kept by the device between calls: (K + O)·G·P floats per worker
/// (K·P when G = 1), plus one zero-padded image (C·(H + 2p_h)·(W + 2p_w)) when the convolution pads: patch
/// rows are copied from that padded copy, so every window lies inside it and each run is copied whole.
/// A 1×1 kernel with stride 1 and no padding skips the patch rows and takes one sample per product (the input
/// image, C×P, is the transposed patch matrix itself).
extension CPUDevice: ConvolutionPrimitives {
    public func conv2dForward(_ x: BufferSlice, weight: BufferSlice, into y: BufferSlice,
                              geometry g: ConvGeometry, epilogue: ProductEpilogue) {
        let (bias, activation, derivative) = (epilogue.bias, epilogue.activation, epilogue.derivative)
        check(x, count: g.inputCount)
        check(weight, count: g.weightCount)
        check(y, count: g.outputCount)
        if let bias { check(bias, count: g.outChannels) }
        if let derivative { check(derivative.output, count: g.outputCount) }
        let shape = ConvShape(g)
        guard g.outputCount > 0 else { return }
        let xp = x.floats, wp = weight.floats, yp = y.floats, bp = bias?.floats
        let gradient = derivative.map { (activation: $0.activation, output: UnsafePointer($0.output.floats)) }
        let (O, K, P) = (g.outChannels, shape.k, shape.p)
        eachSampleGroup(shape) { _, first, count, scratch in
            let columns = count * P
            let yn = yp + first * shape.outputPerSample
            // One sample: the product lands in y_n itself; several: in the scratch after the patches.
            let product = count == 1 ? yn : scratch + K * shape.group * P
            if K == 0 {
                product.update(repeating: 0, count: O * columns)
            } else if shape.pointwise {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(O), Int32(columns), Int32(K),
                            1, wp, Int32(K), xp + first * shape.inputPerSample, Int32(columns), 0, product, Int32(columns))
            } else {
                let rows = shape.patchRows(xp, samples: first, count, into: scratch,
                                               padded: scratch + shape.paddedOffset)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(O), Int32(columns), Int32(K),
                            1, wp, Int32(K), rows, Int32(K), 0, product, Int32(columns))
            }
            let copies = count > 1 || bp != nil || activation != .identity
            guard copies || gradient != nil else { return }
            // product [O][count][P] → y [count][O][P], with the bias and activation, then the derivative's factor
            for s in 0..<count {
                for o in 0..<O {
                    let target = yn + s * shape.outputPerSample + o * P
                    if copies {
                        Self.biasActivation(product + (o * count + s) * P, into: target, count: P, bias: bp?[o] ?? 0, activation)
                    }
                    if let gradient {
                        ActivationMath.multiplyByDerivative(target, output: gradient.output + (target - yp), columns: 0..<P,
                                                            gradient.activation)
                    }
                }
            }
        }
    }

    public func conv2dBackwardInput(_ dy: BufferSlice, weight: BufferSlice, into dx: BufferSlice,
                                    geometry g: ConvGeometry, accumulate: Bool, epilogue: ProductEpilogue) {
        let (bias, activation, derivative) = (epilogue.bias, epilogue.activation, epilogue.derivative)
        check(dy, count: g.outputCount)
        check(weight, count: g.weightCount)
        check(dx, count: g.inputCount)
        if let bias { check(bias, count: g.inChannels) }
        if let derivative { check(derivative.output, count: g.inputCount) }
        let shape = ConvShape(g)
        guard g.inputCount > 0 else { return }
        let dyp = dy.floats, wp = weight.floats, dxp = dx.floats, bp = bias?.floats
        let gradient = derivative.map { (activation: $0.activation, output: UnsafePointer($0.output.floats)) }
        let (O, K, P) = (g.outChannels, shape.k, shape.p)
        let plane = g.inHeight * g.inWidth
        // dx_n = act(dx_n + bias) ⊙ g′(Y_n) for sample n, right after its gradient is complete (still in cache).
        func finish(_ sample: Int) {
            let image = dxp + sample * shape.inputPerSample
            if bp != nil || activation != .identity {
                for c in 0..<g.inChannels {
                    let channel = image + c * plane
                    Self.biasActivation(channel, into: channel, count: plane, bias: bp?[c] ?? 0, activation)
                }
            }
            if let gradient {
                ActivationMath.multiplyByDerivative(image, output: gradient.output + sample * shape.inputPerSample,
                                                    columns: 0..<shape.inputPerSample, gradient.activation)
            }
        }
        let finishes = bp != nil || activation != .identity || gradient != nil
        eachSampleGroup(shape) { _, first, count, scratch in
            let dyn = dyp + first * shape.outputPerSample, dxn = dxp + first * shape.inputPerSample
            if shape.pointwise && O > 0 {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(K), Int32(P), Int32(O),
                            1, wp, Int32(K), dyn, Int32(P), accumulate ? 1 : 0, dxn, Int32(P))
            } else if O > 0 && P > 0 {
                let columns = count * P, drows = scratch
                let gradients = shape.gather(dyn, count, into: scratch + K * shape.group * P)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(columns), Int32(K), Int32(O),
                            1, gradients, Int32(columns), wp, Int32(K), 0, drows, Int32(K))
                for s in 0..<count {
                    shape.addPatchRows(drows + s * P * K, into: dxn + s * shape.inputPerSample, accumulate: accumulate,
                                       padded: scratch + shape.paddedOffset)
                    if finishes { finish(first + s) }
                }
                return
            } else if !accumulate {
                dxn.update(repeating: 0, count: count * shape.inputPerSample)
            }
            if finishes {
                for s in 0..<count { finish(first + s) }
            }
        }
    }

    public func conv2dBackwardWeight(_ x: BufferSlice, _ dy: BufferSlice, into dw: BufferSlice, biasGradient: BufferSlice?,
                                     geometry g: ConvGeometry, accumulate: Bool) {
        check(x, count: g.inputCount)
        check(dy, count: g.outputCount)
        check(dw, count: g.weightCount)
        if let biasGradient { check(biasGradient, count: g.outChannels) }
        let shape = ConvShape(g)
        let xp = x.floats, dyp = dy.floats, dwp = dw.floats, db = biasGradient?.floats
        let (O, K, P) = (g.outChannels, shape.k, shape.p)
        if g.batch == 0 || P == 0 {
            if !accumulate {
                dwp.update(repeating: 0, count: g.weightCount)
                db?.update(repeating: 0, count: O)
            }
            return
        }
        guard g.weightCount > 0 || db != nil else { return }
        // Worker 0 sums into dw itself; the others into partial sums (O·K floats after their scratch), added at
        // the end. A worker's first group overwrites its target (or adds to dw when accumulating), later groups add.
        // Every worker sums its share of the bias gradient into the O floats after those.
        eachSampleGroup(shape, extra: O * K + O) { worker, first, count, scratch in
            let target = worker == 0 ? dwp : scratch + shape.scratchCount
            let isFirst = first == shape.samples(of: worker).lowerBound
            let beta: Float = isFirst && !(worker == 0 && accumulate) ? 0 : 1
            let columns = count * P
            let dyn = dyp + first * shape.outputPerSample
            if db != nil {
                // Σ_{i,j} dy[n, o, i, j] of the group's samples, read while they are gathered for the product
                let sums = scratch + shape.scratchCount + O * K
                if isFirst { sums.update(repeating: 0, count: O) }
                for s in 0..<count {
                    for o in 0..<O { sums[o] += Self.sum(dyn + s * shape.outputPerSample + o * P, count: P) }
                }
            }
            guard K > 0 else { return }
            let gradients = shape.gather(dyn, count, into: scratch + K * shape.group * P)
            if shape.pointwise {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(O), Int32(K), Int32(columns),
                            1, gradients, Int32(columns), xp + first * shape.inputPerSample, Int32(columns),
                            beta, target, Int32(K))
            } else {
                let rows = shape.patchRows(xp, samples: first, count, into: scratch,
                                           padded: scratch + shape.paddedOffset)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(O), Int32(K), Int32(columns),
                            1, gradients, Int32(columns), rows, Int32(K), beta, target, Int32(K))
            }
        } then: { scratch in
            for worker in 1..<scratch.count {
                let partial = scratch[worker] + shape.scratchCount
                for i in 0..<(O * K) { dwp[i] += partial[i] }
            }
            if let db {
                for o in 0..<O {
                    var total = accumulate ? db[o] : 0
                    for worker in scratch.indices { total += scratch[worker][shape.scratchCount + O * K + o] }
                    db[o] = total
                }
            }
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

    /// target[q] = act(source[q] + b) for q < `count` (`source` may be `target`).
    @inline(__always)
    private static func biasActivation(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count: Int,
                                       bias b: Float, _ activation: Activation) {
        switch activation {
        case .identity: for q in 0..<count { target[q] = source[q] + b }
        case .relu: for q in 0..<count { target[q] = max(source[q] + b, 0) }
        default: for q in 0..<count { target[q] = ActivationMath.apply(source[q] + b, activation) }
        }
    }

    /// Runs `body(worker, first, count, scratch)` on groups of at most ``ConvShape/group`` consecutive samples,
    /// first..<first + count, over contiguous blocks of the batch, one block per worker, each worker with its own
    /// scratch of ``ConvShape/scratchCount`` + `extra` floats from the device's ``HostScratch``; then
    /// `finish(scratch)` with every worker's scratch, on the calling thread.
    private func eachSampleGroup(_ shape: ConvShape, extra: Int = 0,
                                 _ body: (Int, Int, Int, UnsafeMutablePointer<Float>) -> Void,
                                 then finish: (UnsafeBufferPointer<UnsafeMutablePointer<Float>>) -> Void = { _ in }) {
        guard shape.geometry.batch > 0 else { return }
        hostScratch.borrow(shape.workers, floats: shape.scratchCount + extra) { scratch in
            func run(_ worker: Int) {
                let samples = shape.samples(of: worker), buffer = scratch[worker]
                // the padded image's border stays 0 for the whole call (see ConvShape.pad)
                (buffer + shape.paddedOffset).update(repeating: 0, count: shape.paddedCount)
                for first in stride(from: samples.lowerBound, to: samples.upperBound, by: shape.group) {
                    body(worker, first, min(shape.group, samples.upperBound - first), buffer)
                }
            }
            if shape.workers == 1 {
                run(0)
            } else {
                Parallel.forEach(shape.workers, costPerItem: .max) { run($0) }
            }
            finish(scratch)
        }
    }
}

/// Derived sizes of a ``ConvGeometry`` and the patch-row loops of the CPU backend.
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
    /// Height and width of an input plane with its zero padding, H + 2p_h and W + 2p_w.
    let paddedHeight: Int
    let paddedWidth: Int
    /// True when the patch rows are taken from a zero-padded copy of each image (any padding).
    let isPadded: Bool
    /// Floats of one padded image, C·Hp·Wp (0 when ``isPadded`` is false).
    let paddedCount: Int
    /// Where a worker's padded image starts in its scratch: after the patch rows and, for groups of several
    /// samples, the O×(G·P) product or gathered gradients.
    let paddedOffset: Int
    /// Floats of scratch per worker.
    let scratchCount: Int

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
        paddedHeight = g.inHeight + 2 * g.padH
        paddedWidth = g.inWidth + 2 * g.padW
        isPadded = !pointwise && (g.padH > 0 || g.padW > 0)
        paddedCount = isPadded ? g.inChannels * paddedHeight * paddedWidth : 0
        paddedOffset = pointwise ? 0 : (group == 1 ? k * p : (k + g.outChannels) * group * p)
        scratchCount = paddedOffset + paddedCount
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
                Self.copyShort(dy + s * outputPerSample + o * p, to: matrix + (o * count + s) * p, count: p)
            }
        }
        return UnsafePointer(matrix)
    }

    /// Fills the (count·P)×K patch rows of samples first..<first + count of the batch `x` (each C×H×W) into
    /// `rows`, sample s in rows s·P..<(s + 1)·P, and returns them. `padded` holds ``paddedCount`` floats.
    func patchRows(_ x: UnsafePointer<Float>, samples first: Int, _ count: Int, into rows: UnsafeMutablePointer<Float>,
                   padded: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        for s in 0..<count {
            let image = x + (first + s) * inputPerSample
            let source = isPadded ? UnsafePointer(pad(image, into: padded)) : image
            switch geometry.kernelWidth {
            case 4: copyRows(source, rows + s * p * k, run: SIMD4<Float>.self)
            case 2: copyRows(source, rows + s * p * k, run: SIMD2<Float>.self)
            default: copyRows(source, rows + s * p * k)
            }
        }
        return UnsafePointer(rows)
    }

    /// Adds the P×K patch rows `rows` of one image back onto that image `x` (C×H×W), or writes their sum over it
    /// when not accumulating: the adjoint of ``patchRows(_:samples:_:into:padded:)``. `padded` holds
    /// ``paddedCount`` floats.
    func addPatchRows(_ rows: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, accumulate: Bool,
                      padded: UnsafeMutablePointer<Float>) {
        let target = isPadded ? padded : x
        if isPadded {
            target.update(repeating: 0, count: paddedCount)
        } else if !accumulate {
            target.update(repeating: 0, count: inputPerSample)
        }
        switch geometry.kernelWidth {
        case 4: addRows(rows, into: target, run: SIMD4<Float>.self)
        case 2: addRows(rows, into: target, run: SIMD2<Float>.self)
        default: addRows(rows, into: target)
        }
        if isPadded { unpad(padded, into: x, accumulate: accumulate) }
    }

    /// Copies the image `x` (C×H×W) into the middle of `padded` (C×Hp×Wp), whose padding rows and columns
    /// must already be 0 (they are never written here, so one clearing serves every image of a call).
    private func pad(_ x: UnsafePointer<Float>, into padded: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        let g = geometry
        for c in 0..<g.inChannels {
            for h in 0..<g.inHeight {
                let row = padded + (c * paddedHeight + h + g.padH) * paddedWidth + g.padW
                Self.copyShort(x + (c * g.inHeight + h) * g.inWidth, to: row, count: g.inWidth)
            }
        }
        return padded
    }

    /// Copies a short run of floats (an image row) in eight-lane vectors, the last one overlapping the one before
    /// it: a `memmove` call, or a scalar tail, per row of 7 to 28 floats costs more than the copy.
    @inline(__always)
    private static func copyShort(_ source: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>, count: Int) {
        @inline(__always) func copy<V: SIMD>(_ i: Int, _: V.Type) where V.Scalar == Float {
            UnsafeMutableRawPointer(target + i).storeBytes(of: UnsafeRawPointer(source + i).loadUnaligned(as: V.self), as: V.self)
        }
        if count >= 8 {
            var i = 0
            while i + 8 < count {
                copy(i, SIMD8<Float>.self)
                i += 8
            }
            copy(count - 8, SIMD8<Float>.self)
        } else if count >= 4 {
            copy(0, SIMD4<Float>.self)
            copy(count - 4, SIMD4<Float>.self)
        } else {
            for i in 0..<count { target[i] = source[i] }
        }
    }

    /// x (+)= the middle of `padded` (C×Hp×Wp): the adjoint of ``pad(_:into:)``, adding when `accumulate`.
    private func unpad(_ padded: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let g = geometry
        for c in 0..<g.inChannels {
            for h in 0..<g.inHeight {
                let row = padded + (c * paddedHeight + h + g.padH) * paddedWidth + g.padW
                let target = x + (c * g.inHeight + h) * g.inWidth
                if accumulate {
                    for w in 0..<g.inWidth { target[w] += row[w] }
                } else {
                    Self.copyShort(row, to: target, count: g.inWidth)
                }
            }
        }
    }

    /// rows[(i,j), (c,u,v)] = image[c, i·s_h + u, j·s_w + v] for an image already padded (Hp×Wp planes), whose
    /// windows all lie inside it: each row is C·kh whole runs of kw pixels, copied as one `Run` vector each.
    @inline(__always)
    private func copyRows<Run: SIMD>(_ image: UnsafePointer<Float>, _ rows: UnsafeMutablePointer<Float>, run: Run.Type)
        where Run.Scalar == Float {
        var row = UnsafeMutableRawPointer(rows)
        walkRuns { offset in
            row.storeBytes(of: UnsafeRawPointer(image + offset).loadUnaligned(as: Run.self), as: Run.self)
            row += MemoryLayout<Float>.stride * Run.scalarCount
        }
    }

    /// ``copyRows(_:_:run:)`` for any kernel width, one pixel at a time.
    private func copyRows(_ image: UnsafePointer<Float>, _ rows: UnsafeMutablePointer<Float>) {
        let kw = geometry.kernelWidth
        var row = rows
        walkRuns { offset in
            for v in 0..<kw { row[v] = image[offset &+ v] }
            row += kw
        }
    }

    /// image[c, i·s_h + u, j·s_w + v] += rows[(i,j), (c,u,v)]: the adjoint of ``copyRows(_:_:run:)``.
    @inline(__always)
    private func addRows<Run: SIMD>(_ rows: UnsafePointer<Float>, into image: UnsafeMutablePointer<Float>, run: Run.Type)
        where Run.Scalar == Float {
        var row = UnsafeRawPointer(rows)
        walkRuns { offset in
            let pixels = UnsafeMutableRawPointer(image + offset)
            pixels.storeBytes(of: pixels.loadUnaligned(as: Run.self) + row.loadUnaligned(as: Run.self), as: Run.self)
            row += MemoryLayout<Float>.stride * Run.scalarCount
        }
    }

    /// ``addRows(_:into:run:)`` for any kernel width, one pixel at a time.
    private func addRows(_ rows: UnsafePointer<Float>, into image: UnsafeMutablePointer<Float>) {
        let kw = geometry.kernelWidth
        var row = rows
        walkRuns { offset in
            for v in 0..<kw { image[offset &+ v] += row[v] }
            row += kw
        }
    }

    /// Calls `body(offset)` for every run of a padded image's patch rows, in row order: output position (i, j),
    /// then channel c, then kernel row u, with offset = (c·Hp + i·s_h + u)·Wp + j·s_w, the run's first pixel.
    /// Wrapping arithmetic: every offset lies inside the padded image.
    @inline(__always)
    private func walkRuns(_ body: (Int) -> Void) {
        let g = geometry
        let (plane, kh, channels) = (paddedHeight &* paddedWidth, g.kernelHeight, g.inChannels)
        for i in 0..<g.outHeight {
            let top = i &* g.strideH &* paddedWidth
            for j in 0..<g.outWidth {
                let window = top &+ j &* g.strideW
                for c in 0..<channels {
                    var offset = window &+ c &* plane
                    for _ in 0..<kh {
                        body(offset)
                        offset &+= paddedWidth
                    }
                }
            }
        }
    }
}
