import Compute
import Foundation
import Layers

/// Per-sample and mean loss terms of a model over a data set.
public struct EvaluationResult: Sendable {
    /// Mean objective per sample: reconstruction + KL (β = 1, the negative ELBO for VAEs) + penalty.
    public var loss: Double
    /// Mean reconstruction term.
    public var reconstruction: Double
    /// Mean KL (VAEs).
    public var kl: Double?
    /// Mean penalty (VQ, sparse, contractive).
    public var penalty: Double?
    /// Σ of the reconstruction terms over the samples, summed in data order.
    public var reconstructionSum: Double
    /// Per-sample reconstruction terms, in data order (empty when the pass kept no per-sample terms).
    public var reconstructionPerSample: [Double]
    /// Per-sample KL terms (VAEs), in data order (nil when the pass kept no per-sample terms).
    public var klPerSample: [Double]?
    /// VAEs: the draws of z per sample behind the reconstruction term, so ``loss`` is a sampled negative ELBO
    /// (one draw, keyed by the seed and the sample's batch); nil for models whose loss involves no draw.
    public var latentDraws: Int?
}

/// Evaluation passes over whole data sets: loss terms, active units, and the importance-weighted likelihood.
public enum Evaluation {
    /// The loss terms of every sample of `data` (inputs clean; VAEs draw z once per sample from a stream keyed
    /// by `seed` and the batch, so two evaluations of one model with the same batch size and data agree exactly).
    public static func run(model: Autoencoder, data: Dataset, seed: UInt64) throws -> EvaluationResult {
        let rows = try DeviceDataset(device: model.device, data: data, batchSize: model.batchSize)
        return try run(model: model, data: rows, seed: seed)
    }

    /// The loss terms of every row of `data`, resident or streamed, as ``run(model:data:seed:)-(_,Dataset,_)``.
    /// Without `perSample` only their sums are kept, so the pass's memory does not grow with the rows.
    public static func run(model: Autoencoder, data: any BatchedRows, seed: UInt64, perSample: Bool = true) throws -> EvaluationResult {
        let device = model.device
        let terms = model.latent.terms
        var sums = (reconstruction: 0.0, kl: 0.0, penalty: 0.0)
        var reconstruction: [Double] = [], kl: [Double] = []
        /// The first `count` values of `perRow`, added to `sum` in order.
        func read(_ perRow: BufferSlice, _ count: Int, into sum: inout Double) -> [Double] {
            let values = device.read(perRow.slice(0, count)).map(Double.init)
            for value in values { sum += value }
            return values
        }
        var batches = data.inOrder(), index = 0
        while let batch = batches.next() {
            model.evaluateBatch(batch.x, context: StepContext(training: false, seed: seed, step: index))
            index += 1
            let rows = read(model.reconstructionPerSample, batch.valid, into: &sums.reconstruction)
            if perSample { reconstruction += rows }
            if terms.contains(.kl) {
                let rows = read(model.klPerSample, batch.valid, into: &sums.kl)
                if perSample { kl += rows }
            }
            if terms.contains(.penalty) { _ = read(model.penaltyPerSample, batch.valid, into: &sums.penalty) }
        }
        try batches.check()
        try device.checkHealth()
        let n = Double(max(data.count, 1))
        let meanRec = sums.reconstruction / n
        let meanKL = terms.contains(.kl) ? sums.kl / n : nil
        let meanPenalty = terms.contains(.penalty) ? sums.penalty / n : nil
        return EvaluationResult(loss: meanRec + (meanKL ?? 0) + (meanPenalty ?? 0), reconstruction: meanRec, kl: meanKL,
                                penalty: meanPenalty, reconstructionSum: sums.reconstruction, reconstructionPerSample: reconstruction,
                                klPerSample: perSample && terms.contains(.kl) ? kl : nil, latentDraws: terms.contains(.kl) ? 1 : nil)
    }

    /// For a sparse code: the latents that are zero for every row of `data` and the mean count of non-zero code
    /// entries per row (L0), counted on the device over the valid rows of every batch and read back once; nil
    /// for other kinds.
    public static func codeActivity(model: Autoencoder, data: any BatchedRows) throws -> (dead: Int, l0: Double)? {
        guard let sparse = model.latent as? SparseCode else { return nil }
        let device = model.device
        let activity = sparse.evaluationActivity
        device.fill(activity.whole, with: 0)
        var batches = data.inOrder()
        while let batch = batches.next() {
            sparse.countFired(model.encode(batch.x), rows: batch.valid, into: activity.whole)
        }
        try batches.check()
        try device.checkHealth()
        let counts = device.read(activity.whole)
        return (counts.filter { $0 == 0 }.count, counts.reduce(0) { $0 + Double($1) } / Double(max(data.count, 1)))
    }

    /// Latent dimensions whose posterior mean varies over the data, Var_x[μ_j(x)] > 0.01 (Burda et al. 2016);
    /// nil for models without a Gaussian posterior. Σ_x μ_j and Σ_x μ_j² are summed on the device over the valid
    /// rows of every batch and read back once.
    static func activeUnits(model: Autoencoder, data: any BatchedRows) throws -> Int? {
        guard let moments = (model.latent as? GaussianLatent)?.momentSums else { return nil }
        let l = model.latentDim, device = model.device
        device.fill(moments.whole, with: 0)
        var batches = data.inOrder()
        while let batch = batches.next() {
            let mu = model.encode(batch.x).slice(0, batch.valid * l)
            device.reduce(mu, rows: batch.valid, cols: l, axis: .rows, op: .sum, scale: 1, into: moments.slice(0, l),
                          accumulate: true)
            device.reduce(mu, rows: batch.valid, cols: l, axis: .rows, op: .sumOfSquares, scale: 1,
                          into: moments.slice(l, l), accumulate: true)
        }
        try batches.check()
        try device.checkHealth()
        let sums = device.read(moments.whole).map(Double.init)
        let n = Double(max(data.count, 1))
        return (0..<l).filter { sums[l + $0] / n - (sums[$0] / n) * (sums[$0] / n) > 0.01 }.count
    }
}

/// A sparse autoencoder's dictionary measured on some rows, as dictionary-learning papers and tools report it.
public struct DictionaryMetrics: Sendable, Equatable {
    /// Fraction of variance unexplained, Σ‖x − x̂‖² / Σ‖x − x̄‖², x̄ the rows' mean.
    public let fvu: Double
    /// Mean non-zero code entries per row.
    public let l0: Double
    /// Latents zero on every row.
    public let deadLatents: Int
    /// Latents of the dictionary.
    public let latents: Int

    /// 1 − FVU.
    public var explainedVariance: Double { 1 - fvu }
    /// The share of latents that are dead.
    public var deadFraction: Double { Double(deadLatents) / Double(max(latents, 1)) }
}

extension Evaluation {
    /// FVU, L0 and dead latents of a sparse autoencoder on activations (``SAEOptions``) over `data`, whose
    /// ``run(model:data:seed:perSample:)`` gave `evaluation`; nil for other models or rows without variance.
    public static func dictionaryMetrics(model: Autoencoder, data: any BatchedRows, evaluation: EvaluationResult)
        throws -> DictionaryMetrics? {
        guard model.config.sae != nil, let activity = try codeActivity(model: model, data: data) else { return nil }
        let total = try SparseDictionary.totalSquaredDeviation(data)
        guard total > 0 else { return nil }
        return DictionaryMetrics(fvu: evaluation.reconstructionSum / total, l0: activity.l0, deadLatents: activity.dead,
                                 latents: model.latentDim)
    }
}
