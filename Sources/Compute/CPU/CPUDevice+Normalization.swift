import Foundation

extension CPUDevice: NormalizationPrimitives {
    public func batchNormForward(_ x: BufferSlice, gamma: BufferSlice, beta: BufferSlice,
                                 runningMean: BufferSlice, runningVar: BufferSlice,
                                 savedMean: BufferSlice, savedInvStd: BufferSlice, into y: BufferSlice,
                                 n: Int, channels: Int, spatial: Int, momentum: Float, epsilon: Float, training: Bool) {
        let count = n * channels * spatial
        check(x, count: count)
        check(y, count: count)
        for view in [gamma, beta, runningMean, runningVar, savedMean, savedInvStd] { check(view, count: channels) }
        precondition(!training || n * spatial >= 1, "training batch norm needs at least one value per channel")
        let xp = x.floats, yp = y.floats, g = gamma.floats, b = beta.floats
        let rm = runningMean.floats, rv = runningVar.floats, sm = savedMean.floats, si = savedInvStd.floats
        let m = n * spatial, planeStride = channels * spatial
        Parallel.forEach(channels, costPerItem: 3 * m) { c in
            let mean: Float, invStd: Float
            if training {
                var total = 0.0
                for i in 0..<n { total += Double(Self.sum(xp + i * planeStride + c * spatial, spatial)) }
                mean = Float(total / Double(m))
                var squares = 0.0
                for i in 0..<n {
                    squares += Double(Self.sumOfSquaredDeviations(xp + i * planeStride + c * spatial, mean, spatial))
                }
                let variance = squares / Double(m)
                invStd = Float(1 / (variance + Double(epsilon)).squareRoot())
                sm[c] = mean
                si[c] = invStd
                let unbiased = variance * Double(m) / Double(max(m - 1, 1))
                rm[c] = (1 - momentum) * rm[c] + momentum * mean
                rv[c] = (1 - momentum) * rv[c] + momentum * Float(unbiased)
            } else {
                mean = rm[c]
                invStd = 1 / (rv[c] + epsilon).squareRoot()
            }
            let scale = g[c] * invStd, shift = b[c]
            for i in 0..<n {
                let offset = i * planeStride + c * spatial
                let src = xp + offset, dst = yp + offset
                for s in 0..<spatial { dst[s] = (src[s] - mean) * scale + shift }
            }
        }
    }

    public func batchNormBackward(_ dy: BufferSlice, x: BufferSlice, gamma: BufferSlice,
                                  savedMean: BufferSlice, savedInvStd: BufferSlice,
                                  dx: BufferSlice, dgamma: BufferSlice, dbeta: BufferSlice,
                                  n: Int, channels: Int, spatial: Int) {
        let count = n * channels * spatial
        check(dy, count: count)
        check(x, count: count)
        check(dx, count: count)
        for view in [gamma, savedMean, savedInvStd, dgamma, dbeta] { check(view, count: channels) }
        let dyp = dy.floats, xp = x.floats, dxp = dx.floats, g = gamma.floats
        let sm = savedMean.floats, si = savedInvStd.floats, dg = dgamma.floats, db = dbeta.floats
        let m = n * spatial, planeStride = channels * spatial
        guard m > 0 else { return }
        Parallel.forEach(channels, costPerItem: 3 * m) { c in
            let mean = sm[c], invStd = si[c]
            var sumDy = 0.0, sumDyCentered = 0.0
            for i in 0..<n {
                let offset = i * planeStride + c * spatial
                sumDy += Double(Self.sum(dyp + offset, spatial))
                sumDyCentered += Double(Self.sumOfProductsWithDeviations(dyp + offset, xp + offset, mean, spatial))
            }
            let sumDyXHat = sumDyCentered * Double(invStd)
            db[c] += Float(sumDy)
            dg[c] += Float(sumDyXHat)
            let meanDy = Float(sumDy / Double(m)), meanDyXHat = Float(sumDyXHat / Double(m))
            let scale = g[c] * invStd
            for i in 0..<n {
                let offset = i * planeStride + c * spatial
                let dyr = dyp + offset, xr = xp + offset, dxr = dxp + offset
                for s in 0..<spatial {
                    let xHat = (xr[s] - mean) * invStd
                    dxr[s] = scale * (dyr[s] - meanDy - xHat * meanDyXHat)
                }
            }
        }
    }

    /// Σ a, summed in eight lanes.
    @inline(__always)
    private static func sum(_ a: UnsafePointer<Float>, _ count: Int) -> Float {
        var lanes = SIMD8<Float>()
        var j = 0
        while j + 8 <= count {
            lanes += UnsafeRawPointer(a + j).loadUnaligned(as: SIMD8<Float>.self)
            j += 8
        }
        var total = lanes.sum()
        while j < count {
            total += a[j]
            j += 1
        }
        return total
    }

    /// Σ (a − μ)², summed in eight lanes.
    @inline(__always)
    private static func sumOfSquaredDeviations(_ a: UnsafePointer<Float>, _ mean: Float, _ count: Int) -> Float {
        var lanes = SIMD8<Float>()
        let mu = SIMD8<Float>(repeating: mean)
        var j = 0
        while j + 8 <= count {
            let t = UnsafeRawPointer(a + j).loadUnaligned(as: SIMD8<Float>.self) - mu
            lanes += t * t
            j += 8
        }
        var total = lanes.sum()
        while j < count {
            let t = a[j] - mean
            total += t * t
            j += 1
        }
        return total
    }

    /// Σ w·(a − μ), summed in eight lanes.
    @inline(__always)
    private static func sumOfProductsWithDeviations(_ w: UnsafePointer<Float>, _ a: UnsafePointer<Float>,
                                                    _ mean: Float, _ count: Int) -> Float {
        var lanes = SIMD8<Float>()
        let mu = SIMD8<Float>(repeating: mean)
        var j = 0
        while j + 8 <= count {
            lanes += UnsafeRawPointer(w + j).loadUnaligned(as: SIMD8<Float>.self)
                * (UnsafeRawPointer(a + j).loadUnaligned(as: SIMD8<Float>.self) - mu)
            j += 8
        }
        var total = lanes.sum()
        while j < count {
            total += w[j] * (a[j] - mean)
            j += 1
        }
        return total
    }
}
