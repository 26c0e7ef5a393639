import Foundation

/// Several models of one run (the same data, different seeds) scoring together: each member's score is
/// standardized on the normal training samples (``AnomalyScorer``) and the ensemble's score is their mean, which
/// evens out how much one seed's model happens to fit the normal data.
public struct AnomalyEnsemble {
    /// The members' models, the run's own model first.
    public let models: [Autoencoder]
    /// Each member's fitted score.
    public let scorers: [AnomalyScorer]

    /// Fits `kind` to each of `models` on `normal`, the normal samples they trained on.
    public init(models: [Autoencoder], kind: AnomalyScoreKind, normal: Dataset, seed: UInt64, draws: Int = 8) throws {
        precondition(!models.isEmpty, "an ensemble needs a model")
        self.models = models
        scorers = try models.map { try AnomalyScorer(kind: kind, model: $0, normal: normal, seed: seed, draws: draws) }
    }

    /// Fits `kind` to each of `models` on the rows of `normal`, resident or streamed from disk (batched for the
    /// models' batch size).
    public init(models: [Autoencoder], kind: AnomalyScoreKind, normal: any BatchedRows, seed: UInt64, draws: Int = 8) throws {
        precondition(!models.isEmpty, "an ensemble needs a model")
        self.models = models
        scorers = try models.map { try AnomalyScorer(kind: kind, model: $0, normal: normal, seed: seed, draws: draws) }
    }

    /// Models and the scores already fitted to them, in the same order (a saved detector's, read back).
    public init(models: [Autoencoder], scorers: [AnomalyScorer]) {
        precondition(!models.isEmpty && models.count == scorers.count, "an ensemble needs one fitted score per model")
        self.models = models
        self.scorers = scorers
    }

    /// The mean of the members' standardized scores of every sample of `data`, in order.
    public func scores(_ data: Dataset) throws -> [Double] {
        try mean(count: data.count) { try $1.scores(model: $0, data: data) }
    }

    /// The mean of the members' standardized scores of every row of `data`, resident or streamed, in order.
    public func scores(_ data: any BatchedRows) throws -> [Double] {
        try mean(count: data.count) { try $1.scores(model: $0, data: data) }
    }

    /// The mean over the members of `count` scores each.
    private func mean(count: Int, _ memberScores: (Autoencoder, AnomalyScorer) throws -> [Double]) throws -> [Double] {
        var total = [Double](repeating: 0, count: count)
        for (model, scorer) in zip(models, scorers) {
            for (i, score) in try memberScores(model, scorer).enumerated() { total[i] += score }
        }
        return total.map { $0 / Double(models.count) }
    }
}
