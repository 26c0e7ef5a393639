import CBLAS

extension CPUDevice: GEMMPrimitives {
    public func gemm(_ a: BufferSlice, transposeA: Bool, _ b: BufferSlice, transposeB: Bool, into c: BufferSlice,
                     m: Int, n: Int, k: Int, alpha: Float, beta: Float, epilogue product: ProductEpilogue,
                     rowSums: BufferSlice?) {
        let (bias, activation, derivative) = (product.bias, product.activation, product.derivative)
        check(a, count: m * k)
        check(b, count: k * n)
        check(c, count: m * n)
        if let bias { check(bias, count: n) }
        if let derivative { check(derivative.output, count: m * n) }
        if let rowSums { check(rowSums, count: m) }
        guard m > 0 else { return }
        if let rowSums { sumRows(a, transposed: transposeA, m: m, k: k, alpha: alpha, beta: beta, into: rowSums) }
        guard n > 0 else { return }
        let y = c.floats, bv = bias.map { UnsafePointer($0.floats) }
        let gradient = derivative.map { (activation: $0.activation, output: UnsafePointer($0.output.floats)) }
        // The epilogue of rows × columns of C: bias and activation, then the derivative's factor.
        func epilogue(_ rows: Range<Int>, _ columns: Range<Int>) {
            if bv != nil || activation != .identity {
                for row in rows { ActivationMath.epilogue(y + row * n, columns: columns, bias: bv, activation) }
            }
            if let gradient {
                for row in rows {
                    ActivationMath.multiplyByDerivative(y + row * n, output: gradient.output + row * n, columns: columns,
                                                        gradient.activation)
                }
            }
        }
        if k == 0 {
            axpbyScalar(beta: beta, c)
            Parallel.forEach(m, costPerItem: n) { row in epilogue(row..<row + 1, 0..<n) }
        } else {
            // The epilogue runs on each block of C right after its product, while the block is in cache.
            Self.sgemm(a.floats, transposeA: transposeA, b.floats, transposeB: transposeB, into: y,
                       m: m, n: n, k: k, alpha: alpha, beta: beta, epilogue: epilogue)
        }
    }

    /// rowSums[i] = α·Σₖ op(A)[i, k] + β·rowSums[i] for A stored M×K (or K×M when `transposed`).
    private func sumRows(_ a: BufferSlice, transposed: Bool, m: Int, k: Int, alpha: Float, beta: Float,
                         into rowSums: BufferSlice) {
        if beta != 0 && beta != 1 {
            let r = rowSums.floats
            for i in 0..<m { r[i] *= beta }
        }
        // A stored K×M sums over its rows, A stored M×K over its columns
        reduce(a, rows: transposed ? k : m, cols: transposed ? m : k, axis: transposed ? .rows : .columns, op: .sum,
               scale: alpha, into: rowSums, accumulate: beta != 0)
    }

    /// C = α·op(A)·op(B) + β·C for dense row-major operands, with OpenBLAS (one thread per call) on blocks
    /// of C spread over the cores: C is cut along its longer side into one block per core, each block a
    /// multiple of 16 rows or columns, once the product has at least 2¹⁹ multiply-adds per block.
    /// `epilogue(rows, columns)` is called on the worker that computed each block of C, right after its product.
    static func sgemm(_ a: UnsafePointer<Float>, transposeA: Bool, _ b: UnsafePointer<Float>, transposeB: Bool,
                      into c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, alpha: Float, beta: Float,
                      epilogue: (Range<Int>, Range<Int>) -> Void = { _, _ in }) {
        let lda = transposeA ? m : k, ldb = transposeB ? k : n
        let opA = transposeA ? CblasTrans : CblasNoTrans, opB = transposeB ? CblasTrans : CblasNoTrans
        let byRows = m >= n
        let side = byRows ? m : n
        let parts = min(Parallel.cores, max(1, m * n * k / (1 << 19)), (side + 15) / 16)
        guard parts > 1 else {
            cblas_sgemm(CblasRowMajor, opA, opB, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                        beta, c, Int32(n))
            epilogue(0..<m, 0..<n)
            return
        }
        let block = (side + parts * 16 - 1) / (parts * 16) * 16
        Parallel.chunks(parts, grain: 1) { range in
            for part in range {
                let start = part * block, end = min(side, start + block)
                guard start < end else { continue }
                if byRows {
                    // rows start..<end of op(A) and C
                    cblas_sgemm(CblasRowMajor, opA, opB, Int32(end - start), Int32(n), Int32(k), alpha,
                                transposeA ? a + start : a + start * lda, Int32(lda), b, Int32(ldb),
                                beta, c + start * n, Int32(n))
                    epilogue(start..<end, 0..<n)
                } else {
                    // columns start..<end of op(B) and C
                    cblas_sgemm(CblasRowMajor, opA, opB, Int32(m), Int32(end - start), Int32(k), alpha,
                                a, Int32(lda), transposeB ? b + start * ldb : b + start, Int32(ldb),
                                beta, c + start, Int32(n))
                    epilogue(0..<m, start..<end)
                }
            }
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
