extension OpenCLDevice: GEMMPrimitives {
    /// C = act(α·op(A)·op(B) + β·C + bias), computed by the kernel ``GEMMPlan`` picks for this shape and device:
    /// the register-blocked `gemm_blocked` (tiled per ``GEMMTiling``), split along K when there are too few output
    /// tiles to fill the device and K is long, or the plain 16×16 `gemm_tiled` for batch-sized products.
    public func gemm(_ a: BufferSlice, transposeA: Bool, _ b: BufferSlice, transposeB: Bool, into c: BufferSlice,
                     m: Int, n: Int, k: Int, alpha: Float, beta: Float, bias: BufferSlice?, activation: Activation) {
        if usesTF32(m: m, n: n, k: k) {
            return gemmTF32(a, transposeA: transposeA, b, transposeB: transposeB, into: c, m: m, n: n, k: k,
                            alpha: alpha, beta: beta, bias: bias, activation: activation)
        }
        precondition(a.count == m * k && b.count == k * n && c.count == m * n, "gemm operand sizes")
        if let bias { precondition(bias.count == n, "gemm bias size") }
        let plan = GEMMPlan(m: m, n: n, k: k, tiling: gemmTiling, computeUnits: info.computeUnits)
        gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: c, m: m, n: n, k: k,
             alpha: alpha, beta: beta, bias: bias, activation: activation, plan: plan)
    }

    /// The product computed as `plan` says (any plan gives the same result; tests run each one).
    func gemm(_ a: BufferSlice, transposeA: Bool, _ b: BufferSlice, transposeB: Bool, into c: BufferSlice,
              m: Int, n: Int, k: Int, alpha: Float, beta: Float, bias: BufferSlice?, activation: Activation,
              plan: GEMMPlan) {
        let operands: [Argument] = [.buffer(a), .buffer(b)]
        let shape: [Argument] = [.int(m), .int(n), .int(k), .int(transposeA ? 1 : 0), .int(transposeB ? 1 : 0)]
        let epilogue: [Argument] = [.float(alpha), .float(beta), .int(bias == nil ? 0 : 1),
                                    .int(Int(activation.code)), .float(activation.parameter)]
        switch plan {
        case .simple:
            launch("gemm_tiled", global: [n, m], local: [16, 16], operands + [.buffer(c), optional(bias)] + shape + epilogue)
        case .blocked(splits: 1, let kChunk):
            launchBlocked(operands + [.buffer(c), optional(bias)] + shape + epilogue, m: m, n: n, splits: 1, kChunk: kChunk)
        case .blocked(let splits, let kChunk):
            // The partial products go to the shared workspace, held from the first kernel to the last.
            gemmWorkspace.lock.lock()
            defer { gemmWorkspace.lock.unlock() }
            guard let partials = gemmWorkspace.slice(count: splits * m * n, on: self) else {
                // No memory for the workspace: one K range needs none.
                launchBlocked(operands + [.buffer(c), optional(bias)] + shape + epilogue, m: m, n: n, splits: 1, kChunk: k)
                return
            }
            let raw: [Argument] = [.float(1), .float(0), .int(0), .int(Int(Activation.identity.code)), .float(0)]
            launchBlocked(operands + [.buffer(partials), optional(nil)] + shape + raw, m: m, n: n, splits: splits, kChunk: kChunk)
            launch("gemm_splitk_reduce", global: [m * n], [.buffer(partials), .buffer(c), optional(bias),
                                                           .int(m), .int(n), .int(splits)] + epilogue)
        }
    }

    /// Enqueues `gemm_blocked` over ⌈N/tileN⌉×⌈M/tileM⌉×`splits` work groups.
    private func launchBlocked(_ arguments: [Argument], m: Int, n: Int, splits: Int, kChunk: Int) {
        let local = gemmTiling.local
        let groups = [(n + gemmTiling.tileN - 1) / gemmTiling.tileN, (m + gemmTiling.tileM - 1) / gemmTiling.tileM, splits]
        launch("gemm_blocked", global: zip(groups, local).map { $0 * $1 }, local: local, arguments + [.int(kChunk)])
    }
}
