import CPUKernels

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
        let constants = aek_adam_constants(
            beta1: c.beta1, one_minus_beta1: c.oneMinusBeta1, beta2: c.beta2, one_minus_beta2: c.oneMinusBeta2,
            epsilon: c.epsilon, step_size: c.stepSize, bias_correction2_sqrt: c.biasCorrection2Sqrt, l2: c.l2,
            decay: c.decay, gradient_scale: scale)
        let p = parameters.floats, g = gradients.floats, mp = m.floats, vp = v.floats
        Parallel.chunks(count, grain: 32_768) { range in
            let i = range.lowerBound
            aek_adam(p + i, g + i, mp + i, vp + i, range.count, constants)
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
                    g[i] = 0
                }
            }
        } else {
            Parallel.chunks(count) { range in
                for i in range {
                    p[i] -= learningRate * (g[i] * scale + weightDecay * p[i])
                    g[i] = 0
                }
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
