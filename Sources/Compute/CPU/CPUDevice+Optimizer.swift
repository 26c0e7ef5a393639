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
        Parallel.chunks(count) { range in
            for i in range {
                let gi = g[i] * scale + c.l2 * p[i]
                let mi = c.beta1 * mp[i] + c.oneMinusBeta1 * gi
                let vi = c.beta2 * vp[i] + c.oneMinusBeta2 * gi * gi
                mp[i] = mi
                vp[i] = vi
                p[i] = p[i] * c.decay - c.stepSize * mi / (vi.squareRoot() / c.biasCorrection2Sqrt + c.epsilon)
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
