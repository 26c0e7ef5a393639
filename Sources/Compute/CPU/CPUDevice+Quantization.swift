import CBLAS

extension CPUDevice: QuantizationPrimitives {
    /// Searches large problems through ‖z‖² − 2 z·e + ‖e‖² with an sgemm for z·eᵀ once n·k·d reaches this.
    private static let expansionThreshold = 1 << 18

    public func nearestCode(_ z: BufferSlice, codebook: BufferSlice, n: Int, k: Int, d: Int,
                            codes: BufferSlice, distances: BufferSlice?) {
        check(z, count: n * d)
        check(codebook, count: k * d)
        check(codes, count: n)
        if let distances { check(distances, count: n) }
        precondition(k >= 1, "nearestCode needs a codebook of at least one vector")
        precondition(codes.buffer.dtype == .int32, "nearestCode codes are int32")
        guard n > 0 else { return }
        let zp = z.floats, ep = codebook.floats, cp = codes.ints, dp = distances?.floats
        if n * k * d >= Self.expansionThreshold && d >= 8 {
            nearestCodeByExpansion(zp, ep, n: n, k: k, d: d, codes: cp, distances: dp)
            return
        }
        Parallel.forEach(n, costPerItem: k * d) { i in
            let row = zp + i * d
            var best = Float.infinity, code = 0
            for j in 0..<k {
                let distance = Self.squaredDistance(row, ep + j * d, d)
                if distance < best {
                    best = distance
                    code = j
                }
            }
            cp[i] = Int32(code)
            dp?[i] = best < .infinity ? best : Self.squaredDistance(row, ep, d)
        }
    }

    /// The argmin of the direct distances, found through the expansion ‖z‖² − 2 z·e + ‖e‖².
    ///
    /// The scores s_j = ‖e_j‖² − 2 z·e_j carry a float error of at most δ ≈ (2d + 2)·u·(‖z‖² + max‖e‖²)
    /// (u the unit roundoff), so the true winner scores within 2δ of the smallest score. Every code that
    /// close is re-measured directly, Σ (z − e)², and the smallest direct distance wins (lower index on
    /// ties): the answer is the one the direct search gives.
    private func nearestCodeByExpansion(_ zp: UnsafeMutablePointer<Float>, _ ep: UnsafeMutablePointer<Float>,
                                        n: Int, k: Int, d: Int, codes cp: UnsafeMutablePointer<Int32>,
                                        distances dp: UnsafeMutablePointer<Float>?) {
        var codeNorms = [Float](repeating: 0, count: k)
        var maxCodeNorm: Float = 0
        for j in 0..<k {
            codeNorms[j] = Self.dot(ep + j * d, ep + j * d, d)
            if codeNorms[j] > maxCodeNorm { maxCodeNorm = codeNorms[j] }
        }
        let relativeMargin = Float(2 * d + 4) * Float.ulpOfOne
        let blockRows = max(1, min(n, (1 << 20) / k))
        var products = [Float](repeating: 0, count: blockRows * k)
        codeNorms.withUnsafeBufferPointer { norms in
            products.withUnsafeMutableBufferPointer { block in
                let en = norms.baseAddress!, s = block.baseAddress!
                for r0 in stride(from: 0, to: n, by: blockRows) {
                    let rows = min(blockRows, n - r0)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(k), Int32(d),
                                1, zp + r0 * d, Int32(d), ep, Int32(d), 0, s, Int32(k))
                    Parallel.forEach(rows, costPerItem: k) { r in
                        let i = r0 + r, row = zp + i * d, scores = s + r * k
                        var smallest = Float.infinity
                        for j in 0..<k {
                            scores[j] = en[j] - 2 * scores[j]
                            if scores[j] < smallest { smallest = scores[j] }
                        }
                        let threshold = smallest + relativeMargin * (Self.dot(row, row, d) + maxCodeNorm)
                        var best = Float.infinity, code = 0
                        for j in 0..<k where scores[j] <= threshold {
                            let distance = Self.squaredDistance(row, ep + j * d, d)
                            if distance < best {
                                best = distance
                                code = j
                            }
                        }
                        cp[i] = Int32(code)
                        dp?[i] = best < .infinity ? best : Self.squaredDistance(row, ep, d)
                    }
                }
            }
        }
    }

    public func scatterAddRows(_ x: BufferSlice, indices: BufferSlice, n: Int, cols: Int, into y: BufferSlice,
                               rows: Int, counts: BufferSlice?, accumulate: Bool) {
        check(x, count: n * cols)
        check(indices, count: n)
        check(y, count: rows * cols)
        if let counts { check(counts, count: rows) }
        precondition(indices.buffer.dtype == .int32, "scatterAddRows indices are int32")
        let xp = x.floats, ip = indices.ints, yp = y.floats, np = counts?.floats
        if !accumulate {
            yp.update(repeating: 0, count: rows * cols)
            np?.update(repeating: 0, count: rows)
        }
        // Each task owns a range of destination rows and scans every index in order, so each row's sum
        // runs in increasing i whatever the split.
        Parallel.chunks(rows, grain: n * cols >= 16_384 ? 1 : max(rows, 1)) { owned in
            for i in 0..<n {
                let target = Int(ip[i])
                guard owned.contains(target) else { continue }
                let src = xp + i * cols, dst = yp + target * cols
                for c in 0..<cols { dst[c] += src[c] }
                np?[target] += 1
            }
        }
    }

    /// Σⱼ (a_j − b_j)², summed in eight lanes.
    @inline(__always)
    static func squaredDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        var lanes = SIMD8<Float>()
        var j = 0
        while j + 8 <= d {
            let t = UnsafeRawPointer(a + j).loadUnaligned(as: SIMD8<Float>.self)
                - UnsafeRawPointer(b + j).loadUnaligned(as: SIMD8<Float>.self)
            lanes += t * t
            j += 8
        }
        var sum = lanes.sum()
        while j < d {
            let t = a[j] - b[j]
            sum += t * t
            j += 1
        }
        return sum
    }

    /// Σⱼ a_j·b_j, summed in eight lanes.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        var lanes = SIMD8<Float>()
        var j = 0
        while j + 8 <= d {
            lanes += UnsafeRawPointer(a + j).loadUnaligned(as: SIMD8<Float>.self)
                * UnsafeRawPointer(b + j).loadUnaligned(as: SIMD8<Float>.self)
            j += 8
        }
        var sum = lanes.sum()
        while j < d {
            sum += a[j] * b[j]
            j += 1
        }
        return sum
    }
}
