extension OpenCLDevice: GEMMPrimitives {
    /// C = act(α·op(A)·op(B) + β·C + bias) ⊙ g′(Y) and the row sums of op(A), computed by the kernel ``GEMMPlan``
    /// picks for this shape and device: the register-blocked `gemm_blocked` (tiled per ``GEMMTiling``), split along K
    /// when there are too few output tiles to fill the device and K is long, or the plain 16×16 `gemm_tiled` for
    /// batch-sized products. One launch, two with split-K.
    public func gemm(_ a: BufferSlice, transposeA: Bool, _ b: BufferSlice, transposeB: Bool, into c: BufferSlice,
                     m: Int, n: Int, k: Int, alpha: Float, beta: Float, bias: BufferSlice?, activation: Activation,
                     derivative: ActivationDerivative?, rowSums: BufferSlice?) {
        precondition(a.count == m * k && b.count == k * n && c.count == m * n, "gemm operand sizes")
        if let bias { precondition(bias.count == n, "gemm bias size") }
        if let derivative { precondition(derivative.output.count == m * n, "gemm derivative size") }
        if let rowSums { precondition(rowSums.count == m, "gemm row sums size") }
        if usesTF32(m: m, n: n, k: k) {
            return gemmTF32(a, transposeA: transposeA, b, transposeB: transposeB, into: c, m: m, n: n, k: k,
                            alpha: alpha, beta: beta, bias: bias, activation: activation, derivative: derivative,
                            rowSums: rowSums)
        }
        let plan = forcedGEMMPlan?.plan(k: k, tiling: gemmTiling)
            ?? GEMMPlan(m: m, n: n, k: k, tiling: gemmTiling, computeUnits: info.computeUnits)
        gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: c, m: m, n: n, k: k,
             alpha: alpha, beta: beta, bias: bias, activation: activation, derivative: derivative, rowSums: rowSums,
             plan: plan)
    }

    /// The product computed as `plan` says (any plan gives the same result; tests run each one).
    func gemm(_ a: BufferSlice, transposeA: Bool, _ b: BufferSlice, transposeB: Bool, into c: BufferSlice,
              m: Int, n: Int, k: Int, alpha: Float, beta: Float, bias: BufferSlice?, activation: Activation,
              derivative: ActivationDerivative?, rowSums: BufferSlice?, plan: GEMMPlan) {
        let operands: [Argument] = [.buffer(a), .buffer(b)]
        let shape: [Argument] = [.int(m), .int(n), .int(k), .int(transposeA ? 1 : 0), .int(transposeB ? 1 : 0)]
        let epilogue = [.float(alpha), .float(beta)] + biasAndActivation(bias, activation)
        let extras = derivativeArguments(derivative) + [optional(rowSums), .int(rowSums == nil ? 0 : 1)]
        switch plan {
        case .simple:
            launch("gemm_tiled", global: [n, m], local: [16, 16],
                   operands + [.buffer(c), optional(bias)] + shape + epilogue + extras)
        case .blocked(splits: 1, let kChunk):
            launchBlocked(operands + [.buffer(c), optional(bias)] + shape + epilogue + extras, m: m, n: n, splits: 1,
                          kChunk: kChunk)
        case .blocked(let splits, let kChunk):
            // The partial products (then the partial row sums) go to the shared workspace, held from the first
            // kernel to the last.
            gemmWorkspace.lock.lock()
            defer { gemmWorkspace.lock.unlock() }
            let sums = rowSums == nil ? 0 : splits * m
            guard let partials = gemmWorkspace.slice(count: splits * m * n + sums, on: self) else {
                // No memory for the workspace: one K range needs none.
                launchBlocked(operands + [.buffer(c), optional(bias)] + shape + epilogue + extras, m: m, n: n,
                              splits: 1, kChunk: k)
                return
            }
            let raw = [.float(1), .float(0)] + biasAndActivation(nil, .identity) + derivativeArguments(nil)
                + [rowSums == nil ? optional(nil) : .buffer(partials.slice(splits * m * n, sums)), .int(rowSums == nil ? 0 : 1)]
            launchBlocked(operands + [.buffer(partials.slice(0, splits * m * n)), optional(nil)] + shape + raw, m: m, n: n,
                          splits: splits, kChunk: kChunk)
            launch("gemm_splitk_reduce", global: [m * n], [.buffer(partials), .buffer(c), optional(bias),
                                                           .int(m), .int(n), .int(splits)] + epilogue + extras)
        }
    }

    /// hasBias, act, slope: the epilogue's bias flag and activation as every product kernel takes them.
    func biasAndActivation(_ bias: BufferSlice?, _ activation: Activation) -> [Argument] {
        [.int(bias == nil ? 0 : 1), .int(Int(activation.code)), .float(activation.parameter)]
    }

    /// gy, hasGrad, gact, gslope: the derivative factor as every product kernel takes it.
    func derivativeArguments(_ derivative: ActivationDerivative?) -> [Argument] {
        [optional(derivative?.output), .int(derivative == nil ? 0 : 1),
         .int(Int(derivative?.activation.code ?? 0)), .float(derivative?.activation.parameter ?? 0)]
    }

    /// Enqueues `gemm_blocked` over ⌈N/tileN⌉×⌈M/tileM⌉×`splits` work groups.
    private func launchBlocked(_ arguments: [Argument], m: Int, n: Int, splits: Int, kChunk: Int) {
        let local = gemmTiling.local
        let groups = [(n + gemmTiling.tileN - 1) / gemmTiling.tileN, (m + gemmTiling.tileM - 1) / gemmTiling.tileM, splits]
        launch("gemm_blocked", global: zip(groups, local).map { $0 * $1 }, local: local, arguments + [.int(kChunk)])
    }
}
