import Compute
import Layers

/// The code of a contractive autoencoder, h = σ(Linear(body)), with the penalty λ·‖∂h/∂x‖²_F. For a one-layer
/// encoder (no hidden layers) it is exact, Σ_j (h_j(1 − h_j))² Σ_i W_ji². Deeper encoders use the stochastic
/// estimate ‖h(x + σε) − h(x)‖²/σ² with ε ~ N(0, I), whose expectation is ‖J‖²_F + O(σ²): both points are encoded
/// as one batch of 2B.
final class ContractivePenalty: Latent {
    /// The encoder's last product, Linear(body → latent): for the exact penalty, the whole encoder's product.
    let projection: Linear
    let encoderHead: [any Layer]
    let lambda: Float
    /// σ of the stochastic estimate; nil for the exact penalty.
    let noise: Double?
    private var prepared: Prepared?

    /// The buffers of one batch size.
    private struct Prepared {
        let setting: LatentSetting
        let stacked: Buffer      // [x; x + σε] [2b, n] (stochastic)
        let columnScale: Buffer  // s_j = Σ_i W_ji² [l]
        let rowScale: Buffer     // 2λ·Σ_b a_bj² / B [l]
        let a: Buffer            // h(1 − h) [b, l]
        let work: Buffer         // [b, l]
        let dh: Buffer           // [encoder rows, l]
        let ones: Buffer         // [b, l] of ones
    }

    init(config: ModelConfig, bodyWidth: Int) {
        projection = Linear(bodyWidth, config.latentDim)
        encoderHead = [projection, Sigmoid()]
        lambda = Float(config.contractiveWeight)
        noise = config.contractiveIsExact ? nil : config.contractiveNoise
    }

    var terms: LatentTerms { .penalty }
    var configurationKeys: Set<String> { noise == nil ? ["contractiveWeight"] : ["contractiveWeight", "contractiveNoise"] }
    var encoderRowsPerSample: Int { noise == nil ? 1 : 2 }

    func prepare(_ setting: LatentSetting, encoder: Sequential) throws {
        let b = setting.batch, l = setting.latentDim
        let ones = try setting.floats(b * l)
        setting.device.fill(ones.whole, with: 1)
        prepared = Prepared(setting: setting,
                            stacked: try setting.floats(noise == nil ? 0 : 2 * b * setting.inputDimension),
                            columnScale: try setting.floats(l), rowScale: try setting.floats(l),
                            a: try setting.floats(b * l), work: try setting.floats(b * l),
                            dh: try setting.floats(encoderRowsPerSample * b * l), ones: ones)
    }

    private var run: Prepared {
        guard let prepared else { preconditionFailure("ContractivePenalty: prepare before use") }
        return prepared
    }

    /// The stochastic estimate's [x; x + σε] as one batch of 2B (its draws keyed by the step, in evaluation too).
    func encoderInput(_ x: BufferSlice, context: StepContext) -> BufferSlice {
        guard let noise else { return x }
        let p = run, device = p.setting.device
        let stacked = p.stacked.whole, perturbed = stacked.slice(x.count, x.count)
        device.copy(x, to: stacked.slice(0, x.count))
        device.fillNormal(perturbed, mean: 0, std: Float(noise), random: context.randomStream(purpose: p.setting.corruptionStream,
                                                                     rowWidth: p.setting.inputDimension))
        device.axpby(alpha: 1, x, beta: 1, perturbed)
        return stacked
    }

    /// The code h(x); in evaluation also the penalty per sample.
    func forward(_ h: BufferSlice, context: StepContext) -> BufferSlice {
        if !context.training { penalty(h) }
        return code(h)
    }

    /// h(x), without the penalty.
    func code(_ h: BufferSlice) -> BufferSlice {
        let s = run.setting
        return noise == nil ? h : h.slice(0, s.batch * s.latentDim)
    }

    func backward(_ dz: BufferSlice, h: BufferSlice, context: StepContext, kl: Autoencoder.KLTerm) -> BufferSlice {
        penalty(h, gradientOf: dz, scale: context.batchMeanScale(rows: run.setting.batch))
    }

    /// The penalty per sample into the setting's penalty; with `dz`, also returns ∂L/∂h for the encoder (dz plus the
    /// penalty's gradient, a batch mean's: `scale` = 1/B) and adds the exact penalty's direct weight gradient.
    @discardableResult
    private func penalty(_ h: BufferSlice, gradientOf dz: BufferSlice? = nil, scale: Float = 0) -> BufferSlice {
        let p = run, s = p.setting, device = s.device
        let b = s.batch, l = s.latentDim, n = s.inputDimension
        guard let noise else {
            guard let weightID = projection.weightID else { preconditionFailure("ContractivePenalty: declare before use") }
            let weight = s.store.value(weightID), dweight = s.store.gradient(weightID)
            // s_j = Σ_i W_ji²
            device.reduce(weight, rows: l, cols: n, axis: .columns, op: .sumOfSquares, scale: 1,
                          into: p.columnScale.whole, accumulate: false)
            // a = h(1 − h), a² and the penalty λ·Σ_j a_j² s_j
            let a = p.a.whole, a2 = p.work.whole
            device.activationBackward(p.ones.whole, input: h, output: h, into: a, activation: .sigmoid, accumulate: false)
            device.multiply(a, a, into: a2)
            device.gemm(a2, transposeA: false, p.columnScale.whole, transposeB: false, into: s.penaltyPerSample,
                        m: b, n: 1, k: l, alpha: lambda, beta: 0, bias: nil, activation: .identity)
            guard let dz else { return h }
            // direct term: ∂/∂W_ji = 2λ·(Σ_b a_bj²)·W_ji / B
            device.reduce(a2, rows: b, cols: l, axis: .rows, op: .sum, scale: 2 * lambda * scale,
                          into: p.rowScale.whole, accumulate: false)
            device.scaleRows(weight, by: p.rowScale.whole, rows: l, cols: n, divide: false, into: dweight,
                             accumulate: true)
            // through h: ∂/∂h_j = 2λ·s_j·a_j·(1 − 2h_j) / B, added to dz (the fused sigmoid multiplies by a_j)
            let dh = p.dh.whole
            device.affine(h, scale: -2, shift: 1, into: a2)
            device.multiply(a2, a, into: a2)
            device.gemm(p.ones.slice(0, b), transposeA: false, p.columnScale.whole, transposeB: false,
                        into: a, m: b, n: l, k: 1)
            device.multiply(a2, a, into: a2)
            device.copy(dz, to: dh)
            device.axpby(alpha: 2 * lambda * scale, a2, beta: 1, dh)
            return dh
        }
        // stochastic: h = [h(x); h(x + σε)], penalty λ‖Δ‖²/σ²
        let sigma2 = Float(noise * noise)
        let clean = h.slice(0, b * l), perturbed = h.slice(b * l, b * l)
        let delta = p.work.whole
        device.copy(perturbed, to: delta)
        device.axpby(alpha: -1, clean, beta: 1, delta)
        device.reduce(delta, rows: b, cols: l, axis: .columns, op: .sumOfSquares, scale: lambda / sigma2,
                      into: s.penaltyPerSample, accumulate: false)
        guard let dz else { return h }
        let dh = p.dh.whole
        let g = 2 * lambda / sigma2 * scale
        device.copy(dz, to: dh.slice(0, b * l))
        device.axpby(alpha: -g, delta, beta: 1, dh.slice(0, b * l))
        device.axpby(alpha: g, delta, beta: 0, dh.slice(b * l, b * l))
        return dh
    }

    func describeEpoch(into metrics: inout EpochMetrics, sums: EpochSumValues, samples: Int, klWeight: Double) {
        metrics.penalty = sums.penalty / Double(max(samples, 1))
    }
}
