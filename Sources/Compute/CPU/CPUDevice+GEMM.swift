import CBLAS

extension CPUDevice: GEMMPrimitives {
    public func gemm(_ a: BufferSlice, transposeA: Bool, _ b: BufferSlice, transposeB: Bool, into c: BufferSlice,
                     m: Int, n: Int, k: Int, alpha: Float, beta: Float, bias: BufferSlice?, activation: Activation) {
        check(a, count: m * k)
        check(b, count: k * n)
        check(c, count: m * n)
        guard m > 0, n > 0 else { return }
        if k == 0 {
            axpbyScalar(beta: beta, c)
        } else {
            cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), alpha, a.floats, Int32(transposeA ? m : k),
                        b.floats, Int32(transposeB ? k : n), beta, c.floats, Int32(n))
        }
        let y = c.floats
        if let bias {
            check(bias, count: n)
            let bv = bias.floats
            Parallel.forEach(m, costPerItem: n) { row in
                let r = y + row * n
                for j in 0..<n { r[j] = ActivationMath.apply(r[j] + bv[j], activation) }
            }
        } else {
            ActivationMath.applyInPlace(y, count: m * n, activation)
        }
    }

    /// c = β·c (β = 0 clears, NaN included), the product of an empty inner dimension.
    private func axpbyScalar(beta: Float, _ c: BufferSlice) {
        let y = c.floats
        Parallel.chunks(c.count) { range in
            for i in range { y[i] = beta == 0 ? 0 : beta * y[i] }
        }
    }
}
