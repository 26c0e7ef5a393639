import Foundation

extension CPUDevice: VAEPrimitives {
    public func reparameterize(mu: BufferSlice, logvar: BufferSlice, eps: BufferSlice, into z: BufferSlice,
                               random: RandomStream) {
        let n = mu.count
        check(mu, count: n)
        check(logvar, count: n)
        check(eps, count: n)
        check(z, count: n)
        let m = mu.floats, lv = logvar.floats, e = eps.floats, out = z.floats
        // ε is the normal stream of fillNormal, element for element
        forEachNormal(n, random) { i, draw in
            e[i] = draw
            out[i] = m[i] + expf(0.5 * lv[i]) * draw
        }
    }

    public func reparameterizeBackward(_ dz: BufferSlice, logvar: BufferSlice, eps: BufferSlice,
                                       dmu: BufferSlice, dlogvar: BufferSlice, accumulate: Bool) {
        let n = dz.count
        check(dz, count: n)
        check(logvar, count: n)
        check(eps, count: n)
        check(dmu, count: n)
        check(dlogvar, count: n)
        let g = dz.floats, lv = logvar.floats, e = eps.floats, gm = dmu.floats, gl = dlogvar.floats
        Parallel.chunks(n, grain: 4096) { range in
            if accumulate {
                for i in range {
                    gm[i] += g[i]
                    gl[i] += g[i] * e[i] * 0.5 * expf(0.5 * lv[i])
                }
            } else {
                for i in range {
                    gm[i] = g[i]
                    gl[i] = g[i] * e[i] * 0.5 * expf(0.5 * lv[i])
                }
            }
        }
    }

    public func gaussianLatent(mu: BufferSlice, logvar: BufferSlice, batch: Int, dim: Int, eps: BufferSlice,
                               into z: BufferSlice, random: RandomStream, klPerSample: BufferSlice,
                               klPerDimension: BufferSlice, klDimensionSums: BufferSlice?) {
        precondition(batch > 0 && dim > 0, "gaussianLatent needs a positive batch and dimension")
        check(klPerSample, count: batch)
        check(klPerDimension, count: dim)
        if let klDimensionSums { check(klDimensionSums, count: dim) }
        reparameterize(mu: mu, logvar: logvar, eps: eps, into: z, random: random)
        let m = mu.floats, lv = logvar.floats, rows = klPerSample.floats, cols = klPerDimension.floats
        let sums = klDimensionSums?.floats
        Parallel.forEach(batch, costPerItem: dim * 8) { b in
            var sum: Float = 0
            for j in b * dim..<(b + 1) * dim { sum += Self.kl(m[j], lv[j]) }
            rows[b] = sum
        }
        // Column sums in row order, a chunk of dimensions per core: deterministic for any core count.
        let inverseBatch = 1 / Float(batch)
        Parallel.chunks(dim, grain: max(1, 16_384 / (batch * 8))) { range in
            for j in range { cols[j] = 0 }
            for b in 0..<batch {
                let row = b * dim
                for j in range { cols[j] += Self.kl(m[row + j], lv[row + j]) }
            }
            for j in range { cols[j] *= inverseBatch }
            if let sums { for j in range { sums[j] += cols[j] } }
        }
    }

    public func gaussianLatentBackward(_ dz: BufferSlice, mu: BufferSlice, logvar: BufferSlice, eps: BufferSlice,
                                       batch: Int, dim: Int, klWeight: Float, dimensionMask: BufferSlice?,
                                       dmu: BufferSlice, dlogvar: BufferSlice) {
        let n = batch * dim
        for operand in [dz, mu, logvar, eps, dmu, dlogvar] { check(operand, count: n) }
        if let dimensionMask { check(dimensionMask, count: dim) }
        let g = dz.floats, m = mu.floats, lv = logvar.floats, e = eps.floats, gm = dmu.floats, gl = dlogvar.floats
        let mask = dimensionMask?.floats
        Parallel.forEach(batch, costPerItem: dim * 8) { b in
            let row = b * dim
            for j in 0..<dim {
                let w = mask.map { klWeight * $0[j] } ?? klWeight
                let i = row + j
                gm[i] = g[i] + w * m[i]
                gl[i] = g[i] * e[i] * 0.5 * expf(0.5 * lv[i]) + w * 0.5 * expm1f(lv[i])
            }
        }
    }

    public func klBackward(mu: BufferSlice, logvar: BufferSlice, batch: Int, dim: Int, weight: Float,
                           dimensionMask: BufferSlice?, dmu: BufferSlice, dlogvar: BufferSlice) {
        check(mu, count: batch * dim)
        check(logvar, count: batch * dim)
        check(dmu, count: batch * dim)
        check(dlogvar, count: batch * dim)
        if let dimensionMask { check(dimensionMask, count: dim) }
        let mask = dimensionMask?.floats
        let m = mu.floats, lv = logvar.floats, gm = dmu.floats, gl = dlogvar.floats
        Parallel.forEach(batch, costPerItem: dim * 4) { b in
            let row = b * dim
            for j in 0..<dim {
                let w = mask.map { weight * $0[j] } ?? weight
                gm[row + j] += w * m[row + j]
                gl[row + j] += w * 0.5 * expm1f(lv[row + j])
            }
        }
    }

    /// −½(1 + logvar − μ² − exp(logvar)), the KL divergence of one latent coordinate from N(0, 1),
    /// computed as ½(μ² + (expm1(logvar) − logvar)) to keep small values accurate.
    @inline(__always)
    static func kl(_ mu: Float, _ logvar: Float) -> Float {
        0.5 * (mu * mu + (expm1f(logvar) - logvar))
    }
}
