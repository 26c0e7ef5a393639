import CPUKernels
import Foundation

extension CPUDevice: LossPrimitives {
    public func reconstructionLoss(_ kind: ReconstructionLoss, prediction: BufferSlice, target: BufferSlice,
                                   rows: Int, cols: Int, perRow: BufferSlice, gradient: BufferSlice?,
                                   gradientScale: Float) {
        check(prediction, count: rows * cols)
        check(target, count: rows * cols)
        check(perRow, count: rows)
        if let gradient { check(gradient, count: rows * cols) }
        let x = prediction.floats, t = target.floats
        switch kind {
        case .bceWithLogits:
            bceWithLogitsRows(x, t, rows: rows, cols: cols, perRow: perRow.floats, gradient: gradient?.floats,
                              gradientScale: gradientScale)
        case .bce:
            rowTerms(rows: rows, cols: cols, perRow: perRow, gradient: gradient, gradientFactor: gradientScale,
                     addGradient: false) { i in LossMath.bce(x[i], t[i]) }
        case .mse:
            rowTerms(rows: rows, cols: cols, perRow: perRow, gradient: gradient, gradientFactor: gradientScale,
                     addGradient: false) { i in
                let d = x[i] - t[i]
                return (d * d, 2 * d)
            }
        }
    }

    public func l1Penalty(_ x: BufferSlice, rows: Int, cols: Int, lambda: Float, perRow: BufferSlice,
                          gradient: BufferSlice?, gradientScale: Float) {
        check(x, count: rows * cols)
        check(perRow, count: rows)
        if let gradient { check(gradient, count: rows * cols) }
        let v = x.floats
        rowTerms(rows: rows, cols: cols, perRow: perRow, lossFactor: lambda, gradient: gradient,
                 gradientFactor: gradientScale * lambda, addGradient: true) { i in
            (abs(v[i]), v[i] > 0 ? 1 : (v[i] < 0 ? -1 : 0))
        }
    }

    /// For each row r: perRow[r] = lossFactor·Σ_c loss(i) and, when a gradient is given,
    /// gradient[i] = gradientFactor·grad(i) (or `+=` when `addGradient`), with i = r·cols + c and
    /// `term(i) = (loss, grad)`. Rows are spread over the cores; each row is summed in order.
    /// Binary cross-entropy from logits: per row Σ max(x, 0) − x·t + log1p(e^−|x|), and the gradient
    /// s·(σ(x) − t). The element terms go to a row scratch (`aek_bce_with_logits`, vectorized for the processor's
    /// widest instruction set), then are summed; the sum does not depend on whether a gradient is written.
    private func bceWithLogitsRows(_ x: UnsafeMutablePointer<Float>, _ t: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                                   perRow out: UnsafeMutablePointer<Float>, gradient g: UnsafeMutablePointer<Float>?,
                                   gradientScale: Float) {
        Parallel.forEach(rows, costPerItem: cols * 8) { r in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: max(cols, 1)) { scratch in
                let terms = scratch.baseAddress!
                aek_bce_with_logits(x + r * cols, t + r * cols, terms, g.map { $0 + r * cols }, gradientScale, cols)
                out[r] = Float(ReductionMath.contiguous(terms, count: cols, op: .sum))
            }
        }
    }

    @inline(__always)
    private func rowTerms(rows: Int, cols: Int, perRow: BufferSlice, lossFactor: Float = 1, gradient: BufferSlice?,
                          gradientFactor: Float, addGradient: Bool, _ term: (Int) -> (Float, Float)) {
        let out = perRow.floats
        let g = gradient?.floats
        Parallel.forEach(rows, costPerItem: cols * 8) { r in
            var sum: Float = 0
            let range = r * cols..<(r + 1) * cols
            if let g {
                for i in range {
                    let (loss, grad) = term(i)
                    sum += loss
                    g[i] = addGradient ? g[i] + gradientFactor * grad : gradientFactor * grad
                }
            } else {
                for i in range { sum += term(i).0 }
            }
            out[r] = lossFactor * sum
        }
    }
}
