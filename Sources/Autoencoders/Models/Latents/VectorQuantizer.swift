import Compute
import Foundation
import Layers

/// The vector quantizer of a VQ-VAE (van den Oord et al. 2017): the encoder output z_e (latentDim/D vectors of D
/// per sample) is replaced by its nearest codebook vectors z_q, with the penalty ‖sg(z_e) − e‖² + β·‖z_e − sg(e)‖²
/// summed over the sample's vectors (only the commitment term β·‖z_e − sg(e)‖² when EMA updates move the codebook).
/// Gradients pass the quantizer straight through. Codes unused for a whole epoch restart on encodings.
final class VectorQuantizer: Latent {
    let encoderHead: [any Layer]
    let options: VQConfig
    private var codebookID: ParameterID?
    private var clusterSizeID: StateID?
    private var embedAverageID: StateID?
    /// T = Σ_k N_k of the EMA codebook (known on the host: each step adds (1 − γ)·vectors); saved in checkpoints.
    private(set) var emaTotal: Double = 0
    private var prepared: Prepared?

    /// The buffers of one batch size.
    private struct Prepared {
        let setting: LatentSetting
        let encoder: Sequential
        let codebook: BufferSlice
        let vectors: Int             // code vectors per batch, b·l/D
        let codes: Buffer            // int32 [b·l/D]
        let zq: Buffer               // [b, l]
        let difference: Buffer       // z_e − z_q [b, l]
        let dze: Buffer              // [b, l]
        let codebookScratch: Buffer  // [K, D]
        let counts: Buffer           // [K] of the batch
        let codeCounts: Buffer       // [K] of the epoch
    }

    init(config: ModelConfig, bodyWidth: Int) {
        encoderHead = [Linear(bodyWidth, config.latentDim)]
        options = config.vq
    }

    var terms: LatentTerms { .penalty }
    var configurationKeys: Set<String> { ["vq"] }

    /// The codebook follows the decoder in the state dict; nn.Embedding's default initialization is N(0, 1), the
    /// uniform ±1/K of the VQ-VAE paper works better.
    func declareTables(in layout: inout ParameterLayout) {
        let k = options.codebookSize, d = options.codeDim
        let bound = 1 / Float(k)
        codebookID = layout.parameter("codebook.weight", shape: [k, d], initializer: .uniform(low: -bound, high: bound))
        if options.ema {
            clusterSizeID = layout.state("codebook.cluster_size", shape: [k], initializer: .constant(0))
            embedAverageID = layout.state("codebook.embed_avg", shape: [k, d], initializer: .constant(0))
        }
    }

    /// Allocates the buffers; the EMA statistics start at the initialized codebook (m = e with N = 0).
    func prepare(_ setting: LatentSetting, encoder: Sequential) throws {
        guard let codebookID else { preconditionFailure("VectorQuantizer: declareTables before prepare") }
        let b = setting.batch, l = setting.latentDim, k = options.codebookSize, d = options.codeDim
        let codebook = setting.store.value(codebookID)
        if let embedAverageID { setting.device.copy(codebook, to: setting.store.state(embedAverageID)) }
        prepared = Prepared(setting: setting, encoder: encoder, codebook: codebook, vectors: b * l / d,
                            codes: try setting.device.makeBuffer(count: max(b * l / d, 1), dtype: .int32),
                            zq: try setting.floats(b * l), difference: try setting.floats(b * l),
                            dze: try setting.floats(b * l), codebookScratch: try setting.floats(k * d),
                            counts: try setting.floats(k), codeCounts: try setting.floats(k))
    }

    private var run: Prepared {
        guard let prepared else { preconditionFailure("VectorQuantizer: prepare before use") }
        return prepared
    }

    /// Nearest code vectors of z_e into z_q, and the penalty per sample (1 + β)·‖z_e − z_q‖² (β·‖·‖² with EMA).
    func forward(_ ze: BufferSlice, context: StepContext) -> BufferSlice {
        let p = run, s = p.setting, device = s.device
        device.nearestCode(ze, codebook: p.codebook, n: p.vectors, k: options.codebookSize, d: options.codeDim,
                           codes: p.codes.whole, distances: nil)
        device.gatherRows(p.codebook, indices: p.codes.whole, cols: options.codeDim, into: p.zq.whole)
        device.copy(ze, to: p.difference.whole)
        device.axpby(alpha: -1, p.zq.whole, beta: 1, p.difference.whole)
        let weight = Float(options.commitment) + (options.ema ? 0 : 1)
        device.reduce(p.difference.whole, rows: s.batch, cols: s.latentDim, axis: .columns, op: .sumOfSquares,
                      scale: weight, into: s.penaltyPerSample, accumulate: false)
        return p.zq.whole
    }

    func backward(_ dz: BufferSlice, h ze: BufferSlice, context: StepContext, kl: Autoencoder.KLTerm) -> BufferSlice {
        guard let codebookID else { preconditionFailure("VectorQuantizer: declareTables before use") }
        let p = run, s = p.setting, device = s.device
        let scale = context.batchMeanScale(rows: s.batch), k = options.codebookSize
        // usage counts and, for the loss form, Σ over each code's vectors of (z_e − z_q)
        device.scatterAddRows(p.difference.whole, indices: p.codes.whole, n: p.vectors, cols: options.codeDim,
                              into: p.codebookScratch.whole, rows: k, counts: p.counts.whole, accumulate: false)
        device.axpby(alpha: 1, p.counts.whole, beta: 1, p.codeCounts.whole)
        if options.ema {
            updateCodebookByEMA(ze: ze, context: context)
        } else {
            // ∂/∂e_k Σ ‖z_e − e‖² = −2 Σ (z_e − e_k)
            device.axpby(alpha: -2 * scale, p.codebookScratch.whole, beta: 1, s.store.gradient(codebookID))
        }
        // straight-through: ∂L/∂z_e = ∂L/∂z_q + 2β(z_e − z_q)/B
        device.copy(dz, to: p.dze.whole)
        device.axpby(alpha: 2 * Float(options.commitment) * scale, p.difference.whole, beta: 1, p.dze.whole)
        return p.dze.whole
    }

    /// EMA codebook (van den Oord et al. 2017, appendix): N ← γN + (1−γ)n, m ← γm + (1−γ)Σz_e,
    /// e = m / Ñ with Laplace-smoothed Ñ = (N + ε)·T/(T + Kε), T = ΣN. A shard's n and Σz_e are summed over
    /// the shards first (one reduction of K·(D + 1) values), so every shard moves the codebook as the global
    /// batch does.
    private func updateCodebookByEMA(ze: BufferSlice, context: StepContext) {
        guard let clusterSizeID, let embedAverageID else { return }
        let p = run, s = p.setting, device = s.device
        let k = options.codebookSize, decay = Float(options.decay), epsilon = Float(options.epsilon)
        let clusterSize = s.store.state(clusterSizeID), embedAverage = s.store.state(embedAverageID)
        device.scatterAddRows(ze, indices: p.codes.whole, n: p.vectors, cols: options.codeDim, into: p.codebookScratch.whole,
                              rows: k, counts: nil, accumulate: false)
        var vectors = Double(p.vectors)
        if let shard = context.shard, let reduction = shard.reduction {
            var batchwide = (device.read(p.counts.whole) + device.read(p.codebookScratch.whole)).map(Double.init)
            reduction.sumOverShards(&batchwide)
            device.write(batchwide[..<k].map { Float($0) }, to: p.counts.whole)
            device.write(batchwide[k...].map { Float($0) }, to: p.codebookScratch.whole)
            vectors *= Double(shard.globalRows) / Double(s.batch)
        }
        device.axpby(alpha: 1 - decay, p.counts.whole, beta: decay, clusterSize)
        device.axpby(alpha: 1 - decay, p.codebookScratch.whole, beta: decay, embedAverage)
        emaTotal = Double(decay) * emaTotal + Double(1 - decay) * vectors
        let factor = Float(emaTotal / (emaTotal + Double(k) * Double(epsilon)))
        device.affine(clusterSize, scale: factor, shift: epsilon * factor, into: p.counts.whole)
        device.scaleRows(embedAverage, by: p.counts.whole, rows: k, cols: options.codeDim, divide: true,
                         into: p.codebook, accumulate: false)
    }

    var epochAccumulators: [(name: String, buffer: Buffer)] { [("code_counts", run.codeCounts)] }

    /// The penalty, the codebook's perplexity exp(H) of the epoch's code usage and the fraction of codes used.
    func describeEpoch(into metrics: inout EpochMetrics, sums: EpochSumValues, samples: Int, klWeight: Double) {
        metrics.penalty = sums.penalty / Double(max(samples, 1))
        let counts = run.setting.device.read(run.codeCounts.whole).map(Double.init)
        let total = counts.reduce(0, +)
        guard total > 0 else { return }
        let entropy = counts.filter { $0 > 0 }.map { -($0 / total) * log($0 / total) }.reduce(0, +)
        metrics.perplexity = exp(entropy)
        metrics.codebookUsage = Double(counts.filter { $0 > 0 }.count) / Double(counts.count)
    }

    /// Moves every code unused in the last epoch onto an encoding of the first `rows` samples of a (seed, epoch)
    /// order of `data` (dead code i takes code vector i·7919 mod V of their V), so the codebook keeps all its
    /// entries in play. EMA statistics of a moved code restart at that vector. The encodings are made a batch of
    /// the model at a time.
    func endEpoch(data: any BatchedRows, rows: Int, seed: UInt64, epoch: Int) throws {
        guard options.restartDeadCodes else { return }
        let p = run, s = p.setting, device = s.device, d = options.codeDim
        let counts = device.read(p.codeCounts.whole)
        let dead = counts.indices.filter { counts[$0] == 0 }
        guard !dead.isEmpty else { return }
        let drawn = DeviceDataset.sample(rows, count: data.count, seed: seed ^ 0x5EED_C0DE, epoch: epoch)
        let vectors = drawn.count * p.vectors / s.batch
        guard vectors > 0 else { return }
        let sources = dead.enumerated().map { i, code in (code: code, vector: (i * 7919) % vectors) }
        var batches = data.batches(order: drawn, dropLast: false)
        var first = 0
        while let batch = batches.next() {
            let ze = p.encoder.forward(batch.x, context: .init(training: false))
            for (code, vector) in sources where vector >= first && vector < first + p.vectors {
                let source = ze.slice((vector - first) * d, d)
                device.copy(source, to: p.codebook.slice(code * d, d))
                if let embedAverageID, let clusterSizeID {
                    device.copy(source, to: s.store.state(embedAverageID).slice(code * d, d))
                    device.fill(s.store.state(clusterSizeID).slice(code, 1), with: 1)
                }
            }
            first += p.vectors
        }
        try batches.check()
    }

    var codeIndices: (indices: BufferSlice, perSample: Int)? {
        (run.codes.whole, run.setting.latentDim / options.codeDim)
    }

    /// Independent categorical priors over the codebook per code position, fitted to code usage on the training data.
    func prior(codes: () throws -> LatentCodes) throws -> LatentPrior {
        let codes = try codes()
        guard codes.count > 0, let indices = codes.indices else {
            throw ConfigError.invalid("cannot fit a prior without training samples")
        }
        let k = options.codebookSize, positions = codes.positions
        var counts = [[Double]](repeating: [Double](repeating: 0, count: k), count: positions)
        for (offset, code) in indices.enumerated() { counts[offset % positions][Int(code)] += 1 }
        let frequencies = counts.map { row in row.map { $0 / Double(codes.count) } }
        return .categorical(frequencies: frequencies, codebook: run.setting.device.read(run.codebook),
                            codeDim: options.codeDim)
    }

    var hostState: [String: Double] {
        get { ["ema_total": emaTotal] }
        set { emaTotal = newValue["ema_total"] ?? emaTotal }
    }
}
