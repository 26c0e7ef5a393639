import Compute
import Layers

/// The sparse code of a sparse autoencoder: ReLU codes z = ReLU(Linear(body)) with the penalty λ·Σ|z|, or top-k
/// codes that keep the k largest entries of each sample's Linear(body) (Makhzani & Frey 2013), or of its ReLU
/// (``SAEOptions/rectify``, Gao et al. 2024). It counts how often each unit fires in an epoch (dead units, L0, and
/// the dead-latent resampling of ``SparseDictionary``) and, under ``SAEOptions/auxK``, runs the auxiliary loss
/// (``AuxiliaryCode``).
final class SparseCode: Latent {
    /// The encoder's last product, Linear(body → latent): for an SAE the dictionary's encoder.
    let projection: Linear
    let encoderHead: [any Layer]
    let sparsity: SparsityConfig
    /// Whether top-k codes are rectified, z = ReLU(topk(h)): the k largest of ReLU(h), with h kept whole for the
    /// auxiliary code, which reads the pre-activations of latents that no longer reach zero.
    private let rectified: Bool
    private let auxiliaryOptions: AuxKOptions?
    /// Whether the model is a sparse autoencoder on activations (``SAEOptions``).
    private let isDictionary: Bool
    private var prepared: Prepared?
    private var auxiliary: AuxiliaryCode?
    /// The ``SAEOptions`` upkeep while a ``Trainer`` trains the model.
    private(set) var dictionary: SparseDictionary?

    /// The buffers of one batch size.
    private struct Prepared {
        let setting: LatentSetting
        let z: Buffer             // top-k output [b, l]
        let dh: Buffer            // [b, l]
        let ones: Buffer          // [b, l] of ones
        let fired: Buffer         // 1 where the code is non-zero [b, l]
        let batchActivity: Buffer // [l] samples of the batch in which each unit fired
        let unitActivity: Buffer  // [l] samples in the epoch in which each unit fired
        let evaluationActivity: Buffer  // [l] rows of an evaluation in which each unit fired
    }

    init(config: ModelConfig, bodyWidth: Int) {
        sparsity = config.sparsity
        isDictionary = config.sae != nil
        projection = Linear(bodyWidth, config.latentDim)
        switch config.sparsity {
        case .l1:
            encoderHead = [projection, ReLU()]
            rectified = false
            auxiliaryOptions = nil
        case .topK:
            encoderHead = [projection]
            rectified = config.sae?.rectify ?? false
            auxiliaryOptions = config.sae?.auxK
        }
    }

    /// The L1 penalty (zero for top-k codes).
    var terms: LatentTerms { .penalty }

    var configurationKeys: Set<String> { ["sparsity", "sae"] }

    func prepare(_ setting: LatentSetting, encoder: Sequential) throws {
        let b = setting.batch, l = setting.latentDim
        let ones = try setting.floats(b * l)
        setting.device.fill(ones.whole, with: 1)
        prepared = Prepared(setting: setting, z: try setting.floats(b * l), dh: try setting.floats(b * l), ones: ones,
                            fired: try setting.floats(b * l), batchActivity: try setting.floats(l),
                            unitActivity: try setting.floats(l), evaluationActivity: try setting.floats(l))
    }

    /// With ``SAEOptions/auxK``, prepares the auxiliary loss on the decoder's one linear layer,
    /// and, for an SAE, makes the decoder's product read the code's k entries per row and the projection's
    /// gradient those and the auxiliary code's (``Linear/useSparseRows(input:outputGradient:)``).
    func connect(decoder: Sequential, outputGradient: BufferSlice, reconstructionPerSample: BufferSlice) throws {
        guard isDictionary, case .topK(let k) = sparsity else { return }
        guard let linear = decoder.layers.first as? Linear, decoder.layers.count == 1, let weightID = linear.weightID else {
            throw ConfigError.invalid("--sae needs a decoder of one linear layer")
        }
        try linear.useSparseRows(input: k, outputGradient: nil)
        if let auxiliaryOptions {
            auxiliary = try AuxiliaryCode(options: auxiliaryOptions, codeK: k, setting: run.setting, decoder: linear,
                                          decoderWeight: weightID, outputGradient: outputGradient,
                                          reconstructionPerSample: reconstructionPerSample)
        }
        try projection.useSparseRows(input: nil, outputGradient: k + (auxiliary?.k ?? 0))
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
        } else if !context.training, auxiliary != nil {
            // the auxiliary term is a training term: an evaluation has none
            run.setting.device.fill(run.setting.penaltyPerSample, with: 0)
        }
        return code(h)
    }

    /// The top-k code, or the ReLU code itself.
    func code(_ h: BufferSlice) -> BufferSlice {
        guard case .topK(let k) = sparsity else { return h }
        let p = run, s = p.setting
        s.device.topK(h, into: p.z.whole, rows: s.batch, cols: s.latentDim, k: k)
        if rectified { s.device.activate(p.z.whole, into: p.z.whole, activation: .relu) }
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
            auxiliary?.backward(h: h, batchActivity: p.batchActivity.whole, context: context, into: p.dh.whole)
        }
        return p.dh.whole
    }

    /// Adds the number of non-zero code entries to the epoch sums and per-unit activity counts.
    private func countActivity(code: BufferSlice) {
        let p = run, s = p.setting, device = s.device
        countFired(code, rows: s.batch, into: p.batchActivity.whole, accumulate: false)
        device.axpby(alpha: 1, p.batchActivity.whole, beta: 1, p.unitActivity.whole)
        device.reduce(p.fired.whole, rows: 1, cols: s.batch * s.latentDim, axis: .all, op: .sum, scale: 1,
                      into: s.epochNonzero, accumulate: true)
    }

    /// Per unit, the rows of an evaluation in which it fired (``countFired(_:rows:into:accumulate:)``).
    var evaluationActivity: Buffer { run.evaluationActivity }

    /// Writes, or adds when `accumulate`, to `activity` [l], per unit, the rows among the first `rows` of `code`
    /// (a batch of codes) in which it is non-zero.
    func countFired(_ code: BufferSlice, rows: Int, into activity: BufferSlice, accumulate: Bool = true) {
        let p = run, s = p.setting, device = s.device
        device.maskedGradient(p.ones.whole, mask: code, into: p.fired.whole)
        device.reduce(p.fired.slice(0, rows * s.latentDim), rows: rows, cols: s.latentDim, axis: .rows, op: .sum,
                      scale: 1, into: activity, accumulate: accumulate)
    }

    /// Per unit, the samples of the epoch so far in which it fired.
    var unitActivity: Buffer { run.unitActivity }

    var epochAccumulators: [(name: String, buffer: Buffer)] { [("unit_activity", run.unitActivity)] }

    func startTraining(model: Autoencoder, training: any BatchedRows, validation: (any BatchedRows)?, seed: UInt64) throws {
        guard let options = model.config.sae else { return }
        dictionary = try SparseDictionary(model: model, code: self, options: options, training: training,
                                          validation: validation, seed: seed)
    }

    func beforeUpdate() { dictionary?.projectDecoderGradient() }

    func afterUpdate() { dictionary?.normalizeDecoder() }

    /// An SAE's explained variance, and its L0 and dead latents on the validation split; then resampling, after
    /// every epoch but the last (training would not follow it).
    func review(_ epoch: EpochReview, into metrics: inout EpochMetrics) throws {
        guard let dictionary else { return }
        if let validation = epoch.validation, let result = epoch.validationResult {
            metrics.explainedVariance = dictionary.explainedVariance(squaredError: result.reconstructionSum)
            if let activity = try Evaluation.codeActivity(model: epoch.model, data: validation) {
                metrics.l0 = activity.l0
                metrics.deadUnits = activity.dead
            }
        } else {
            metrics.explainedVariance = dictionary.explainedVariance(squaredError: epoch.trainingSquaredError)
        }
        metrics.resampledUnits = epoch.isLast ? 0 : try dictionary.resampleDeadLatents(model: epoch.model, optimizer: epoch.optimizer,
                                                                                      data: epoch.training, seed: epoch.seed,
                                                                                      epoch: epoch.number - 1)
    }

    func endEpoch(data: any BatchedRows, rows: Int, seed: UInt64, epoch: Int) throws {
        auxiliary?.endEpoch(samplesPerEpoch: data.count)
    }

    /// The auxiliary loss's count of training samples since each latent last fired (a checkpoint keeps it).
    var runningState: [(name: String, buffer: Buffer)] { auxiliary.map { [("samples_since_fired", $0.samplesSinceFired)] } ?? [] }

    func describeEpoch(into metrics: inout EpochMetrics, sums: EpochSumValues, samples: Int, klWeight: Double) {
        let n = Double(max(samples, 1))
        metrics.penalty = sums.penalty / n
        metrics.l0 = sums.nonzero / n
        metrics.deadUnits = run.setting.device.read(run.unitActivity.whole).filter { $0 == 0 }.count
    }
}
