import Compute
import Foundation
import Layers

/// The Gaussian latent of a VAE or β-VAE: heads μ = fc_mu(h) and log σ² = fc_logvar(h) on the encoder output,
/// z = μ + σ·ε with ε ~ N(0, I), and the KL term β·KL(q(z|x) ‖ N(0, I)), or γ·|KL − C| under a capacity schedule.
/// Free bits floor the batch-mean KL of each dimension at λ (gradients of dimensions below the floor are off).
final class GaussianLatent: Latent {
    let fcMu: Linear
    let fcLogvar: Linear
    let freeBits: Double?
    private let bodyWidth: Int
    private var prepared: Prepared?
    /// μ and log σ² of the last forward pass, still in the heads' output buffers.
    private var moments: (mu: BufferSlice, logvar: BufferSlice)?

    /// The buffers of one batch size.
    private struct Prepared {
        let setting: LatentSetting
        let eps: Buffer          // reparameterization noise [b, l]
        let z: Buffer            // [b, l]
        let dmu: Buffer          // [b, l]
        let dlogvar: Buffer      // [b, l]
        let klDimension: Buffer  // batch-mean KL per dimension [l]
        let mask: Buffer         // free-bits mask [l]
        let dmuKL: Buffer        // the capacity objective's KL gradients [b, l] each
        let dlogvarKL: Buffer
        let capacity: Buffer     // [3] batch-mean KL, |KL − C|, sign(KL − C)
        let rows: Buffer         // [b] log p(z) − log q(z|x) of an importance draw
        let klDimensionSums: Buffer  // [l] Σ over the epoch's batches of the batch-mean KL per dimension
        let momentSums: Buffer       // [2, l] Σ μ and Σ μ² over a data set
    }

    init(config: ModelConfig, bodyWidth: Int) {
        self.bodyWidth = bodyWidth
        fcMu = Linear(bodyWidth, config.latentDim)
        fcLogvar = Linear(bodyWidth, config.latentDim)
        freeBits = config.freeBits
    }

    var terms: LatentTerms { .kl }
    var configurationKeys: Set<String> { ["beta", "capacity", "freeBits"] }
    /// The encoder ends at its shared body; the heads take its output.
    var encoderHead: [any Layer] { [] }
    /// fc_logvar adds its input gradient to fc_mu's and multiplies the sum by act′ of the encoder's last activation.
    var appliesEncoderOutputDerivative: Bool { true }

    func declareHeads(in layout: inout ParameterLayout) {
        fcMu.declareParameters(in: &layout, prefix: "fc_mu.")
        fcLogvar.declareParameters(in: &layout, prefix: "fc_logvar.")
    }

    func prepare(_ setting: LatentSetting, encoder: Sequential) throws {
        let b = setting.batch, l = setting.latentDim
        let encoderActivation = encoder.plan?.outputActivation ?? .identity
        try fcMu.prepare(device: setting.device, store: setting.store, inputShape: [bodyWidth], batch: b)
        try fcLogvar.prepare(device: setting.device, store: setting.store, inputShape: [bodyWidth], batch: b,
                             fusion: Fusion(inputActivation: encoderActivation))
        prepared = Prepared(setting: setting, eps: try setting.floats(b * l), z: try setting.floats(b * l),
                            dmu: try setting.floats(b * l), dlogvar: try setting.floats(b * l),
                            klDimension: try setting.floats(l), mask: try setting.floats(l),
                            dmuKL: try setting.floats(b * l), dlogvarKL: try setting.floats(b * l),
                            capacity: try setting.floats(3), rows: try setting.floats(b),
                            klDimensionSums: try setting.floats(l), momentSums: try setting.floats(2 * l))
    }

    private var run: Prepared {
        guard let prepared else { preconditionFailure("GaussianLatent: prepare before use") }
        return prepared
    }

    /// z = μ + σ·ε and the KL per sample; a training pass also adds the batch's KL per dimension to the epoch's sums.
    func forward(_ h: BufferSlice, context: StepContext) -> BufferSlice {
        let p = run, s = p.setting
        let mu = fcMu.forward(h, context: context), logvar = fcLogvar.forward(h, context: context)
        s.device.gaussianLatent(mu: mu, logvar: logvar, batch: s.batch, dim: s.latentDim, eps: p.eps.whole,
                                into: p.z.whole, random: context.randomStream(purpose: s.latentStream, rowWidth: s.latentDim),
                                klPerSample: s.klPerSample, klPerDimension: p.klDimension.whole,
                                klDimensionSums: context.training ? p.klDimensionSums.whole : nil)
        moments = (mu, logvar)
        return p.z.whole
    }

    func backward(_ dz: BufferSlice, h: BufferSlice, context: StepContext, kl: Autoencoder.KLTerm) -> BufferSlice {
        guard let (mu, logvar) = moments else { preconditionFailure("GaussianLatent: forward before backward") }
        let p = run, s = p.setting, device = s.device
        let b = s.batch, l = s.latentDim, scale = context.batchMeanScale(rows: b)
        var mask: BufferSlice?
        // the batch-wide values below are the global batch's: each shard's batch means, weighted by its rows
        let reduction = context.shard?.reduction, shardWeight = Double(b) * Double(scale)
        if let freeBits, freeBits > 0 {
            reduction?.sumOverShards(p.klDimension.whole, on: device, scale: shardWeight)
            device.thresholdMask(p.klDimension.whole, threshold: Float(freeBits), into: p.mask.whole)
            mask = p.mask.whole
        }
        if let capacity = kl.capacity {
            // γ·|KL − C| with the sign of KL − C kept on the device (nothing read back): its gradient is formed for
            // +γ/B, then scaled by the sign
            let sign = capacityTerm(target: capacity.target, gamma: capacity.gamma, reduction: reduction,
                                    shardWeight: shardWeight)
            device.reparameterizeBackward(dz, logvar: logvar, eps: p.eps.whole, dmu: p.dmu.whole,
                                          dlogvar: p.dlogvar.whole, accumulate: false)
            device.fill(p.dmuKL.whole, with: 0)
            device.fill(p.dlogvarKL.whole, with: 0)
            device.klBackward(mu: mu, logvar: logvar, batch: b, dim: l, weight: Float(capacity.gamma) * scale,
                              dimensionMask: mask, dmu: p.dmuKL.whole, dlogvar: p.dlogvarKL.whole)
            device.scaleRows(p.dmuKL.whole, by: sign, rows: 1, cols: b * l, divide: false, into: p.dmu.whole,
                             accumulate: true)
            device.scaleRows(p.dlogvarKL.whole, by: sign, rows: 1, cols: b * l, divide: false, into: p.dlogvar.whole,
                             accumulate: true)
        } else {
            device.gaussianLatentBackward(dz, mu: mu, logvar: logvar, eps: p.eps.whole, batch: b, dim: l,
                                          klWeight: Float(kl.weight) * scale, dimensionMask: mask,
                                          dmu: p.dmu.whole, dlogvar: p.dlogvar.whole)
        }
        guard let dh = fcMu.backward(p.dmu.whole, context: context, needInputGradient: true)
        else { preconditionFailure("fc_mu returned no input gradient") }
        // dh = (dh + dlogvar·W_logvar), times the encoder's last act′ when fc_logvar takes it
        return fcLogvar.backward(p.dlogvar.whole, context: context, addingInputGradientTo: dh)
    }

    /// The capacity objective on the device: with k̄ = Σ KL / B of the batch (of the global batch, through
    /// `reduction`, when the batch is a shard of `shardWeight` = rows/B), adds B·γ·|k̄ − C| to the epoch's
    /// objective (the shard's rows' part of it) and returns the one-element view of sign(k̄ − C) (+1 where
    /// k̄ = C), which weighs the KL gradient.
    private func capacityTerm(target: Double, gamma: Double, reduction: (any ShardReduction)?,
                              shardWeight: Double) -> BufferSlice {
        let p = run, s = p.setting, device = s.device, b = s.batch
        let meanKL = p.capacity.slice(0, 1), excess = p.capacity.slice(1, 1), sign = p.capacity.slice(2, 1)
        device.reduce(s.klPerSample, rows: 1, cols: b, axis: .all, op: .sum, scale: 1 / Float(b), into: meanKL,
                      accumulate: false)
        reduction?.sumOverShards(meanKL, on: device, scale: shardWeight)
        device.thresholdMask(meanKL, threshold: Float(target), into: sign)   // 1 where k̄ ≥ C, else 0
        device.affine(sign, scale: 2, shift: -1, into: sign)                  // ±1
        device.affine(meanKL, scale: 1, shift: -Float(target), into: excess)  // k̄ − C
        device.multiply(excess, sign, into: excess)                           // |k̄ − C|
        device.axpby(alpha: Float(Double(b) * gamma), excess, beta: 1, s.epochObjective)
        return sign
    }

    /// Room for Σ_x μ_j and Σ_x μ_j² over a data set, [2, l] (the active units of ``Evaluation``).
    var momentSums: Buffer { run.momentSums }

    /// μ.
    func code(_ h: BufferSlice) -> BufferSlice { fcMu.forward(h, context: StepContext(training: false)) }

    /// β·KL is a per-sample term of the objective; a capacity schedule adds its own term instead.
    func objectiveKLWeight(_ kl: Autoencoder.KLTerm) -> Float { kl.capacity == nil ? Float(kl.weight) : 0 }

    var epochAccumulators: [(name: String, buffer: Buffer)] { [("kl_dimensions", run.klDimensionSums)] }

    func describeEpoch(into metrics: inout EpochMetrics, sums: EpochSumValues, samples: Int, klWeight: Double) {
        let p = run
        let batches = Double(max(samples / p.setting.batch, 1))
        metrics.kl = sums.kl / Double(max(samples, 1))
        metrics.beta = klWeight
        metrics.klPerDimension = p.setting.device.read(p.klDimensionSums.whole).map { Double($0) / batches }
    }

    /// The prior the model was trained against, N(0, I).
    func prior(codes: () throws -> LatentCodes) throws -> LatentPrior { .standardNormal(dimension: run.setting.latentDim) }

    /// One draw z ~ q(z|x) per sample from the encoder output `h` and the rows
    /// log p(z) − log q(z|x) = Σ_j (−½z_j² + ½ε_j² + ½ log σ_j²) (the 2π terms cancel), batch elements.
    func importanceDraw(_ h: BufferSlice, context: StepContext) -> (z: BufferSlice, logRatio: BufferSlice) {
        let p = run, s = p.setting, device = s.device, b = s.batch, l = s.latentDim
        let mu = fcMu.forward(h, context: context), logvar = fcLogvar.forward(h, context: context)
        device.reparameterize(mu: mu, logvar: logvar, eps: p.eps.whole, into: p.z.whole,
                              random: context.randomStream(purpose: s.latentStream, rowWidth: s.latentDim))
        let rows = p.rows.whole
        device.reduce(p.z.whole, rows: b, cols: l, axis: .columns, op: .sumOfSquares, scale: -0.5, into: rows,
                      accumulate: false)
        device.reduce(p.eps.whole, rows: b, cols: l, axis: .columns, op: .sumOfSquares, scale: 0.5, into: rows,
                      accumulate: true)
        device.reduce(logvar, rows: b, cols: l, axis: .columns, op: .sum, scale: 0.5, into: rows, accumulate: true)
        return (p.z.whole, rows)
    }
}
