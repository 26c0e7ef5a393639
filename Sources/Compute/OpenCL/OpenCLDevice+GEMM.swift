extension OpenCLDevice: GEMMPrimitives {
    /// C = act(α·op(A)·op(B) + β·C + bias) ⊙ g′(Y) and the row sums of op(A), computed by the kernel ``GEMMPlan``
    /// picks for this shape and device: the register-blocked `gemm_blocked` (tiled per ``GEMMTiling``), split along K
    /// when there are too few output tiles to fill the device and K is long, or the plain 16×16 `gemm_tiled` for
    /// batch-sized products. One launch, two with split-K.
    public func gemm(_ a: BufferSlice, transposeA: Bool, _ b: BufferSlice, transposeB: Bool, into c: BufferSlice,
                     m: Int, n: Int, k: Int, alpha: Float, beta: Float, epilogue: ProductEpilogue, rowSums: BufferSlice?) {
        precondition(a.count == m * k && b.count == k * n && c.count == m * n, "gemm operand sizes")
        if let bias = epilogue.bias { precondition(bias.count == n, "gemm bias size") }
        if let derivative = epilogue.derivative { precondition(derivative.output.count == m * n, "gemm derivative size") }
        if let rowSums { precondition(rowSums.count == m, "gemm row sums size") }
        if usesTF32(m: m, n: n, k: k) {
            return gemmTF32(a, transposeA: transposeA, b, transposeB: transposeB, into: c, m: m, n: n, k: k,
                            alpha: alpha, beta: beta, epilogue: epilogue, rowSums: rowSums)
        }
        let plan = forcedGEMMPlan?.plan(k: k, tiling: gemmTiling)
            ?? GEMMPlan(m: m, n: n, k: k, tiling: gemmTiling, computeUnits: info.computeUnits)
        gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: c, m: m, n: n, k: k,
             alpha: alpha, beta: beta, epilogue: epilogue, rowSums: rowSums, plan: plan)
    }

    /// The product computed as `plan` says (any plan gives the same result; tests run each one).
    func gemm(_ a: BufferSlice, transposeA: Bool, _ b: BufferSlice, transposeB: Bool, into c: BufferSlice,
              m: Int, n: Int, k: Int, alpha: Float, beta: Float, epilogue: ProductEpilogue, rowSums: BufferSlice?,
              plan: GEMMPlan) {
        // the whole product into C with its epilogue (kChunk: the K range of a `gemm_blocked` work group)
        func whole(kChunk: Int?) -> [Argument] {
            productArguments(a, transposeA: transposeA, b, transposeB: transposeB, into: c, m: m, n: n, k: k, alpha: alpha,
                             beta: beta, epilogue: epilogue, rowSums: rowSums, kChunk: kChunk)
        }
        switch plan {
        case .simple:
            launch("gemm_tiled", global: [n, m], local: [Self.tiledSide, Self.tiledSide], whole(kChunk: nil))
        case .blocked(splits: 1, let kChunk):
            launchBlocked(m: m, n: n, splits: 1, whole(kChunk: kChunk))
        case .blocked(let splits, let kChunk):
            // The partial products (then the partial row sums) go to the shared workspace, held from the first
            // kernel to the last.
            gemmWorkspace.lock.lock()
            defer { gemmWorkspace.lock.unlock() }
            let sums = rowSums == nil ? 0 : splits * m
            guard let partials = gemmWorkspace.slice(count: splits * m * n + sums, on: self) else {
                // No memory for the workspace: one K range needs none.
                launchBlocked(m: m, n: n, splits: 1, whole(kChunk: k))
                return
            }
            launchBlocked(m: m, n: n, splits: splits, productArguments(
                a, transposeA: transposeA, b, transposeB: transposeB, into: partials.slice(0, splits * m * n),
                m: m, n: n, k: k, alpha: 1, beta: 0, epilogue: .none,
                rowSums: rowSums == nil ? nil : partials.slice(splits * m * n, sums), kChunk: kChunk))
            var reduce: [Argument] = [.buffer(partials), .buffer(c), .int(m), .int(n), .int(splits)]
            appendBlend(alpha: alpha, beta: beta, rowSums: rowSums, to: &reduce)
            appendEpilogue(epilogue, to: &reduce)
            launch("gemm_splitk_reduce", global: [m * n], reduce)
        }
    }

    /// The arguments of the product kernels (`gemm_tiled`, `gemm_blocked` with `kChunk`, `gemm_tf32`), in their
    /// order: A, B, C, M, N, K, transA, transB, the blend (``appendBlend(alpha:beta:rowSums:to:)``), kChunk when
    /// given, then the epilogue (``appendEpilogue(_:to:)``).
    func productArguments(_ a: BufferSlice, transposeA: Bool, _ b: BufferSlice, transposeB: Bool, into c: BufferSlice,
                          m: Int, n: Int, k: Int, alpha: Float, beta: Float, epilogue: ProductEpilogue,
                          rowSums: BufferSlice?, kChunk: Int? = nil) -> [Argument] {
        var list: [Argument] = [
            .buffer(a), .buffer(b), .buffer(c),
            .int(m), .int(n), .int(k), .int(transposeA ? 1 : 0), .int(transposeB ? 1 : 0),
        ]
        list.reserveCapacity(list.count + 14)
        appendBlend(alpha: alpha, beta: beta, rowSums: rowSums, to: &list)
        if let kChunk { list.append(.int(kChunk)) }
        appendEpilogue(epilogue, to: &list)
        return list
    }

    /// Appends `PRODUCT_BLEND_PARAMS` (`Kernels/common.cl`): α, β and the row sums (rs, hasRowSums).
    func appendBlend(alpha: Float, beta: Float, rowSums: BufferSlice?, to list: inout [Argument]) {
        list.append(.float(alpha))
        list.append(.float(beta))
        list.append(optional(rowSums))
        list.append(.int(rowSums == nil ? 0 : 1))
    }

    /// Appends `EPILOGUE_PARAMS` (`Kernels/common.cl`), as every product and convolution kernel takes them: the bias
    /// (bias, hasBias), the activation (act, slope) and the derivative factor (gy, hasGrad, gact, gslope).
    func appendEpilogue(_ epilogue: ProductEpilogue, to list: inout [Argument]) {
        let derivative = epilogue.derivative
        list.append(optional(epilogue.bias))
        list.append(.int(epilogue.bias == nil ? 0 : 1))
        list.append(.int(Int(epilogue.activation.code)))
        list.append(.float(epilogue.activation.parameter))
        list.append(optional(derivative?.output))
        list.append(.int(derivative == nil ? 0 : 1))
        list.append(.int(Int(derivative?.activation.code ?? 0)))
        list.append(.float(derivative?.activation.parameter ?? 0))
    }

    /// Enqueues `gemm_blocked` over ⌈N/tileN⌉×⌈M/tileM⌉×`splits` work groups.
    private func launchBlocked(m: Int, n: Int, splits: Int, _ arguments: [Argument]) {
        launch("gemm_blocked", global: gemmTiling.global(columns: n, rows: m, depth: splits), local: gemmTiling.local,
               arguments)
    }
}
