import Foundation

/// What an anomaly score is made of (`detect --score`).
public enum AnomalyScoreKind: String, Codable, CaseIterable, Sendable {
    /// The model's per-sample loss (``AnomalyScores/scores(model:data:seed:draws:)``): the reconstruction term,
    /// the negative ELBO for VAEs.
    case loss
    /// Σⱼ (xⱼ − x̂ⱼ)² / vⱼ: each feature's squared reconstruction error divided by its mean vⱼ over the normal
    /// training samples, so a feature the model reconstructs well everywhere counts as much as a noisy one.
    case standardized
    /// The standardized error plus the squared Mahalanobis distance of the code from a Gaussian fitted to the
    /// normal training codes, each term first z-scored by its mean and deviation over the normal training samples:
    /// a sample whose code lies off the normal codes counts even when it reconstructs well.
    case standardizedAndCode = "standardized+code"
}

/// An anomaly score fitted to one model and its normal training samples: the per-feature error scales, the
/// Gaussian of the codes, and the moments that standardize the score (so the scores of several models can be
/// averaged). Scores are in units of the normal training samples' standard deviation above their mean.
public struct AnomalyScorer: Sendable {
    /// The kind of score.
    public let kind: AnomalyScoreKind
    /// VAEs: reparameterized draws averaged per ``AnomalyScoreKind/loss`` score.
    public let draws: Int
    private let seed: UInt64
    private var errorScale: [Double] = []
    private var codeMean: [Double] = []
    private var codeFactor: [Double] = []
    private var errorMoments = (mean: 0.0, deviation: 1.0)
    private var codeMoments = (mean: 0.0, deviation: 1.0)
    private var scoreMoments = (mean: 0.0, deviation: 1.0)

    /// Fits the score of `kind` to `model` on `normal`, the normal samples the model trained on.
    ///
    /// - Throws: `DataError.invalidArgument` without normal samples, device faults.
    public init(kind: AnomalyScoreKind, model: Autoencoder, normal: Dataset, seed: UInt64, draws: Int = 8) throws {
        guard normal.count > 0 else { throw DataError(file: normal.name, .invalidArgument("no normal samples to fit the score on")) }
        self.kind = kind
        self.draws = draws
        self.seed = seed
        if kind != .loss {
            let errors = try Self.squaredErrors(model: model, data: normal)
            let n = normal.dimension
            var sums = [Double](repeating: 0, count: n)
            for row in 0..<normal.count {
                for j in 0..<n { sums[j] += errors[row * n + j] }
            }
            let means = sums.map { $0 / Double(normal.count) }
            // a floor of 1e-3 of the average feature error keeps a perfectly reconstructed feature from dominating
            let floor = max(means.reduce(0, +) / Double(n) * 1e-3, 1e-12)
            errorScale = means.map { 1 / max($0, floor) }
        }
        if kind == .standardizedAndCode {
            let codes = try model.encode(normal)
            let (mean, factor) = Self.gaussian(codes)
            codeMean = mean
            codeFactor = factor
            errorMoments = Self.moments(try standardizedErrors(model: model, data: normal))
            codeMoments = Self.moments(mahalanobis(codes))
        }
        scoreMoments = Self.moments(try rawScores(model: model, data: normal))
    }

    /// The standardized score of every sample of `data`, in order: (s − m)/σ for the raw score s and its mean m
    /// and standard deviation σ over the normal training samples.
    public func scores(model: Autoencoder, data: Dataset) throws -> [Double] {
        try rawScores(model: model, data: data).map { ($0 - scoreMoments.mean) / scoreMoments.deviation }
    }

    private func rawScores(model: Autoencoder, data: Dataset) throws -> [Double] {
        switch kind {
        case .loss:
            return try AnomalyScores.scores(model: model, data: data, seed: seed, draws: draws)
        case .standardized:
            return try standardizedErrors(model: model, data: data)
        case .standardizedAndCode:
            let errors = try standardizedErrors(model: model, data: data)
            let distances = mahalanobis(try model.encode(data))
            return zip(errors, distances).map {
                ($0 - errorMoments.mean) / errorMoments.deviation + ($1 - codeMoments.mean) / codeMoments.deviation
            }
        }
    }

    private func standardizedErrors(model: Autoencoder, data: Dataset) throws -> [Double] {
        let errors = try Self.squaredErrors(model: model, data: data)
        let n = data.dimension
        return (0..<data.count).map { row in
            var sum = 0.0
            for j in 0..<n { sum += errors[row * n + j] * errorScale[j] }
            return sum
        }
    }

    /// (xᵢⱼ − x̂ᵢⱼ)² for every sample and feature, x̂ the reconstruction from the code (μ for VAEs).
    private static func squaredErrors(model: Autoencoder, data: Dataset) throws -> [Double] {
        let reconstructions = try model.reconstruct(data)
        return zip(data.features, reconstructions).map { Double($0 - $1) * Double($0 - $1) }
    }

    /// Squared Mahalanobis distances (z − m)ᵀ Σ⁻¹ (z − m) through the Cholesky factor of Σ.
    private func mahalanobis(_ codes: LatentCodes) -> [Double] {
        let l = codes.dimension
        return (0..<codes.count).map { row in
            var y = [Double](repeating: 0, count: l)
            var sum = 0.0
            for i in 0..<l {
                var value = Double(codes.values[row * l + i]) - codeMean[i]
                for k in 0..<i { value -= codeFactor[i * l + k] * y[k] }
                y[i] = value / codeFactor[i * l + i]
                sum += y[i] * y[i]
            }
            return sum
        }
    }

    /// The codes' mean and the lower Cholesky factor of their covariance, with a ridge of 1e-6 of the mean
    /// variance (plus 1e-12) on the diagonal so that collapsed dimensions keep the factor invertible.
    static func gaussian(_ codes: LatentCodes) -> (mean: [Double], factor: [Double]) {
        let l = codes.dimension, n = codes.count
        let mean = codes.mean()
        var covariance = [Double](repeating: 0, count: l * l)
        for row in 0..<n {
            for i in 0..<l {
                let a = Double(codes.values[row * l + i]) - mean[i]
                for j in 0...i { covariance[i * l + j] += a * (Double(codes.values[row * l + j]) - mean[j]) }
            }
        }
        var trace = 0.0
        for i in 0..<l { trace += covariance[i * l + i] / Double(n) }
        let ridge = 1e-6 * trace / Double(l) + 1e-12
        var factor = [Double](repeating: 0, count: l * l)
        for i in 0..<l {
            for j in 0...i {
                var value = covariance[i * l + j] / Double(n) + (i == j ? ridge : 0)
                for k in 0..<j { value -= factor[i * l + k] * factor[j * l + k] }
                factor[i * l + j] = i == j ? max(value, ridge).squareRoot() : value / factor[j * l + j]
            }
        }
        return (mean, factor)
    }

    /// Mean and population standard deviation (1 when it is zero).
    static func moments(_ values: [Double]) -> (mean: Double, deviation: Double) {
        let n = Double(max(values.count, 1))
        let mean = values.reduce(0, +) / n
        let deviation = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n).squareRoot()
        return (mean, deviation > 0 ? deviation : 1)
    }
}
