extension OpenCLDevice: GEMMPrimitives {
    public func gemm(_ a: BufferSlice, transposeA: Bool, _ b: BufferSlice, transposeB: Bool, into c: BufferSlice,
                     m: Int, n: Int, k: Int, alpha: Float, beta: Float, bias: BufferSlice?, activation: Activation) {
        if usesTF32(m: m, n: n, k: k) {
            return gemmTF32(a, transposeA: transposeA, b, transposeB: transposeB, into: c, m: m, n: n, k: k,
                            alpha: alpha, beta: beta, bias: bias, activation: activation)
        }
        precondition(a.count == m * k && b.count == k * n && c.count == m * n, "gemm operand sizes")
        if let bias { precondition(bias.count == n, "gemm bias size") }
        let tile = 16
        launch("gemm_tiled", global: [n, m], local: [tile, tile], [
            .buffer(a), .buffer(b), .buffer(c), optional(bias),
            .int(m), .int(n), .int(k), .int(transposeA ? 1 : 0), .int(transposeB ? 1 : 0),
            .float(alpha), .float(beta), .int(bias == nil ? 0 : 1), .int(Int(activation.code)), .float(activation.parameter),
        ])
    }
}
