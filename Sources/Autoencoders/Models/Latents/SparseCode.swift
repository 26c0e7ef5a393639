import Compute
import Layers

/// The sparse code of a sparse autoencoder: ReLU codes z = ReLU(Linear(body)) with the penalty λ·Σ|z|, or top-k
/// codes that keep the k largest entries of each sample's Linear(body) (Makhzani & Frey 2013). It counts how often
/// each unit fires in an epoch (dead units, L0, and the dead-latent resampling of ``SparseDictionary``).
final class SparseCode: Latent {
    /// The encoder's last product, Linear(body → latent): for an SAE the dictionary's encoder.
    let projection: Linear
    let encoderHead: [any Layer]
    let sparsity: SparsityConfig
    private var prepared: Prepared?

    /// The buffers of one batch size.
    private struct Prepared {
        let setting: LatentSetting
        let z: Buffer             // top-k output [b, l]
        let dh: Buffer            // [b, l]
        let ones: Buffer          // [b, l] of ones
        let fired: Buffer         // 1 where the code is non-zero [b, l]
        let unitActivity: Buffer  // [l] samples in the epoch in which each unit fired
    }

    init(config: ModelConfig, bodyWidth: Int) {
        sparsity = config.sparsity
        projection = Linear(bodyWidth, config.latentDim)
        if case .l1 = config.sparsity { encoderHead = [projection, ReLU()] } else { encoderHead = [projection] }
    }

    /// The L1 penalty (zero for top-k codes).
    var terms: LatentTerms { .penalty }

    var configurationKeys: Set<String> { ["sparsity", "sae"] }

    func prepare(_ setting: LatentSetting, encoder: Sequential) throws {
        let b = setting.batch, l = setting.latentDim
        let ones = try setting.floats(b * l)
        setting.device.fill(ones.whole, with: 1)
        prepared = Prepared(setting: setting, z: try setting.floats(b * l), dh: try setting.floats(b * l), ones: ones,
                            fired: try setting.floats(b * l), unitActivity: try setting.floats(l))
    }

    private var run: Prepared {
        guard let prepared else { preconditionFailure("SparseCode: prepare before use") }
        return prepared
    }

    /// The code of ``code(_:)``; in evaluation also the L1 penalty per sample.
    func forward(_ h: BufferSlice, context: StepContext) -> BufferSlice {
        if !context.training, case .l1(let lambda) = sparsity {
            let s = run.setting
            s.device.l1Penalty(h, rows: s.batch, cols: s.latentDim, lambda: Float(lambda), perRow: s.penaltyPerSample,
                               gradient: nil, gradientScale: 0)
        }
        return code(h)
    }

    /// The top-k code, or the ReLU code itself.
    func code(_ h: BufferSlice) -> BufferSlice {
        guard case .topK(let k) = sparsity else { return h }
        let p = run, s = p.setting
        s.device.topK(h, into: p.z.whole, rows: s.batch, cols: s.latentDim, k: k)
        return p.z.whole
    }

    func backward(_ dz: BufferSlice, h: BufferSlice, context: StepContext, kl: Autoencoder.KLTerm) -> BufferSlice {
        let p = run, s = p.setting, device = s.device
        let b = s.batch, l = s.latentDim
        switch sparsity {
        case .l1(let lambda):
            countActivity(code: h)
            device.copy(dz, to: p.dh.whole)
            device.l1Penalty(h, rows: b, cols: l, lambda: Float(lambda), perRow: s.penaltyPerSample,
                             gradient: p.dh.whole, gradientScale: context.batchMeanScale(rows: b))
        case .topK:
            countActivity(code: p.z.whole)
            device.maskedGradient(dz, mask: p.z.whole, into: p.dh.whole)
        }
        return p.dh.whole
    }

    /// Adds the number of non-zero code entries to the epoch sums and per-unit activity counts.
    private func countActivity(code: BufferSlice) {
        let p = run, s = p.setting, device = s.device
        device.maskedGradient(p.ones.whole, mask: code, into: p.fired.whole)
        device.reduce(p.fired.whole, rows: s.batch, cols: s.latentDim, axis: .rows, op: .sum, scale: 1,
                      into: p.unitActivity.whole, accumulate: true)
        device.reduce(p.fired.whole, rows: 1, cols: s.batch * s.latentDim, axis: .all, op: .sum, scale: 1,
                      into: s.epochNonzero, accumulate: true)
    }

    /// Per unit, the samples of the epoch so far in which it fired.
    var unitActivity: Buffer { run.unitActivity }

    var epochAccumulators: [(name: String, buffer: Buffer)] { [("unit_activity", run.unitActivity)] }

    func describeEpoch(into metrics: inout EpochMetrics, sums: EpochSumValues, samples: Int, klWeight: Double) {
        let n = Double(max(samples, 1))
        metrics.penalty = sums.penalty / n
        metrics.l0 = sums.nonzero / n
        metrics.deadUnits = run.setting.device.read(run.unitActivity.whole).filter { $0 == 0 }.count
    }
}
