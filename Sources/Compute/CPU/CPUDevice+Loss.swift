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
    /// Binary cross-entropy from logits, sixteen columns at a time with ``VectorMath``: per row
    /// Σ max(x, 0) − x·t + log1p(e^−|x|), and the gradient s·(σ(x) − t); the row's tail goes through ``LossMath``.
    private func bceWithLogitsRows(_ x: UnsafeMutablePointer<Float>, _ t: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                                   perRow out: UnsafeMutablePointer<Float>, gradient g: UnsafeMutablePointer<Float>?,
                                   gradientScale: Float) {
        let width = VectorMath.width
        Parallel.forEach(rows, costPerItem: cols * 8) { r in
            let xr = x + r * cols, tr = t + r * cols, gr = g.map { $0 + r * cols }
            var lanes = VectorMath.Vector()
            var j = 0
            while j + width <= cols {
                let xv = VectorMath.load(xr + j), tv = VectorMath.load(tr + j)
                let e = VectorMath.exp(pointwiseMin(xv, -xv))  // e^−|x|
                lanes += xv.replacing(with: 0, where: xv .< 0) - xv * tv + VectorMath.log1p(e)
                if let gr {
                    let inverse = 1 / (1 + e)
                    let sigmoid = (e * inverse).replacing(with: inverse, where: xv .>= 0)
                    VectorMath.store(gradientScale * (sigmoid - tv), gr + j)
                }
                j += width
            }
            var sum = lanes.sum()
            while j < cols {
                let (loss, grad) = LossMath.bceWithLogits(xr[j], tr[j])
                sum += loss
                gr?[j] = gradientScale * grad
                j += 1
            }
            out[r] = sum
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
