extension CPUDevice: OptimizerPrimitives {
    public func adamUpdate(parameters: BufferSlice, gradients: BufferSlice, m: BufferSlice, v: BufferSlice,
                           step: Int, hyper: AdamParameters, gradientScale: BufferSlice?) {
        let count = parameters.count
        check(gradients, count: count)
        check(m, count: count)
        check(v, count: count)
        precondition(step >= 1, "Adam steps count from 1")
        let c = AdamConstants(hyper, step: step)
        let scale = gradientScaleValue(gradientScale)
        let p = parameters.floats, g = gradients.floats, mp = m.floats, vp = v.floats
        Parallel.chunks(count, grain: 32_768) { range in
            // Constants in locals, kept in registers; sixteen lanes at a time, then the tail.
            let (beta1, oneMinusBeta1, beta2, oneMinusBeta2) = (c.beta1, c.oneMinusBeta1, c.beta2, c.oneMinusBeta2)
            let (l2, decay, stepSize, correction, epsilon) = (c.l2, c.decay, c.stepSize, c.biasCorrection2Sqrt, c.epsilon)
            var i = range.lowerBound
            while i + VectorMath.width <= range.upperBound {
                let pi = VectorMath.load(p + i)
                let gi = VectorMath.load(g + i) * scale + l2 * pi
                let mi = beta1 * VectorMath.load(mp + i) + oneMinusBeta1 * gi
                let vi = beta2 * VectorMath.load(vp + i) + oneMinusBeta2 * gi * gi
                VectorMath.store(mi, mp + i)
                VectorMath.store(vi, vp + i)
                VectorMath.store(pi * decay - stepSize * mi / (VectorMath.squareRoot(vi) / correction + epsilon), p + i)
                i += VectorMath.width
            }
            for i in i..<range.upperBound {
                let gi = g[i] * scale + l2 * p[i]
                let mi = beta1 * mp[i] + oneMinusBeta1 * gi
                let vi = beta2 * vp[i] + oneMinusBeta2 * gi * gi
                mp[i] = mi
                vp[i] = vi
                p[i] = p[i] * decay - stepSize * mi / (vi.squareRoot() / correction + epsilon)
            }
        }
    }

    public func sgdUpdate(parameters: BufferSlice, gradients: BufferSlice, velocity: BufferSlice?,
                          learningRate: Float, momentum: Float, weightDecay: Float, gradientScale: BufferSlice?) {
        let count = parameters.count
        check(gradients, count: count)
        let scale = gradientScaleValue(gradientScale)
        let p = parameters.floats, g = gradients.floats
        if let velocity, momentum != 0 {
            check(velocity, count: count)
            let buf = velocity.floats
            Parallel.chunks(count) { range in
                for i in range {
                    let b = momentum * buf[i] + (g[i] * scale + weightDecay * p[i])
                    buf[i] = b
                    p[i] -= learningRate * b
                }
            }
        } else {
            Parallel.chunks(count) { range in
                for i in range { p[i] -= learningRate * (g[i] * scale + weightDecay * p[i]) }
            }
        }
    }

    public func clipScale(squaredNorm: BufferSlice, maxNorm: Float, into scale: BufferSlice) {
        check(squaredNorm, count: 1)
        check(scale, count: 1)
        let coefficient = maxNorm / (squaredNorm.floats[0].squareRoot() + 1e-6)
        scale.floats[0] = coefficient > 1 ? 1 : coefficient
    }

    /// The value of an optional one-element gradient-scale view (1 when absent).
    private func gradientScaleValue(_ slice: BufferSlice?) -> Float {
        guard let slice else { return 1 }
        check(slice, count: 1)
        return slice.floats[0]
    }
}
