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
///
/// The samples are read a batch at a time (``BatchedRows``, resident or streamed from disk): fitting takes a pass
/// for the error scales and the codes' mean, one for the codes' covariance (standardized+code), and one for the
/// moments; memory holds per-sample scores, never the samples' errors or codes whole.
public struct AnomalyScorer: Codable, Sendable {
    /// The kind of score.
    public let kind: AnomalyScoreKind
    /// VAEs: reparameterized draws averaged per ``AnomalyScoreKind/loss`` score.
    public let draws: Int
    private let seed: UInt64
    private var errorScale: [Double] = []
    private var codeMean: [Double] = []
    private var codeFactor: [Double] = []
    private var errorMoments = Moments(mean: 0, deviation: 1)
    private var codeMoments = Moments(mean: 0, deviation: 1)
    private var scoreMoments = Moments(mean: 0, deviation: 1)

    /// The mean and standard deviation of some scores on the normal training rows (a deviation of 0 taken as 1).
    struct Moments: Codable, Sendable {
        var mean: Double
        var deviation: Double
    }

    /// Fits the score of `kind` to `model` on `normal`, the normal samples the model trained on.
    ///
    /// - Throws: `DataError.invalidArgument` without normal samples, device faults.
    public init(kind: AnomalyScoreKind, model: Autoencoder, normal: Dataset, seed: UInt64, draws: Int = 8) throws {
        guard normal.count > 0 else { throw DataError(file: normal.name, .invalidArgument("no normal samples to fit the score on")) }
        try self.init(kind: kind, model: model, normal: try model.rows(normal), seed: seed, draws: draws)
    }

    /// Fits the score of `kind` to `model` on the rows of `normal`, resident or streamed, as
    /// ``init(kind:model:normal:seed:draws:)-(_,_,Dataset,_,_)`` does on the same rows loaded whole.
    ///
    /// - Throws: `DataError.invalidArgument` without normal rows, errors of a streamed pass, device faults.
    public init(kind: AnomalyScoreKind, model: Autoencoder, normal: any BatchedRows, seed: UInt64, draws: Int = 8) throws {
        guard normal.count > 0 else { throw DataError(file: "the normal data", .invalidArgument("no normal samples to fit the score on")) }
        self.kind = kind
        self.draws = draws
        self.seed = seed
        if kind != .loss {
            let n = model.inputDimension, l = model.latentDim, withCodes = kind == .standardizedAndCode
            var errorSums = [Double](repeating: 0, count: n), codeSums = [Double](repeating: 0, count: l)
            try Self.forEachBatch(model: model, rows: normal, errors: true, codes: withCodes) { errors, codes, valid in
                for row in 0..<valid {
                    for j in 0..<n { errorSums[j] += errors[row * n + j] }
                }
                Self.addSums(codes, dimension: l, to: &codeSums)
            }
            let means = errorSums.map { $0 / Double(normal.count) }
            // a floor of 1e-3 of the average feature error keeps a perfectly reconstructed feature from dominating
            let floor = max(means.reduce(0, +) / Double(n) * 1e-3, 1e-12)
            errorScale = means.map { 1 / max($0, floor) }
            if withCodes {
                let mean = codeSums.map { $0 / Double(normal.count) }
                var covariance = [Double](repeating: 0, count: l * l)
                try Self.forEachBatch(model: model, rows: normal, errors: false, codes: true) { _, codes, _ in
                    Self.addCovariance(codes, mean: mean, to: &covariance)
                }
                codeMean = mean
                codeFactor = Self.factor(covariance: covariance, count: normal.count, dimension: l)
                let (errors, distances) = try terms(model: model, rows: normal)
                errorMoments = Self.moments(errors)
                codeMoments = Self.moments(distances)
                scoreMoments = Self.moments(combined(errors, distances))
                return
            }
        }
        scoreMoments = Self.moments(try rawScores(model: model, rows: normal))
    }

    /// The standardized score of every sample of `data`, in order: (s − m)/σ for the raw score s and its mean m
    /// and standard deviation σ over the normal training samples.
    public func scores(model: Autoencoder, data: Dataset) throws -> [Double] {
        try scores(model: model, data: try model.rows(data))
    }

    /// The standardized score of every row of `data`, resident or streamed, in order.
    public func scores(model: Autoencoder, data: any BatchedRows) throws -> [Double] {
        try rawScores(model: model, rows: data).map { ($0 - scoreMoments.mean) / scoreMoments.deviation }
    }

    private func rawScores(model: Autoencoder, rows: any BatchedRows) throws -> [Double] {
        switch kind {
        case .loss:
            return try AnomalyScores.scores(model: model, data: rows, seed: seed, draws: draws)
        case .standardized:
            return try terms(model: model, rows: rows).errors
        case .standardizedAndCode:
            let (errors, distances) = try terms(model: model, rows: rows)
            return combined(errors, distances)
        }
    }

    /// The standardized+code raw score: the error term and the code's distance, each z-scored on the normal samples.
    private func combined(_ errors: [Double], _ distances: [Double]) -> [Double] {
        zip(errors, distances).map {
            ($0 - errorMoments.mean) / errorMoments.deviation + ($1 - codeMoments.mean) / codeMoments.deviation
        }
    }

    /// Per row, in one pass: Σⱼ (xⱼ − x̂ⱼ)² · scaleⱼ, and for standardized+code the squared Mahalanobis distance
    /// of the code (empty otherwise).
    private func terms(model: Autoencoder, rows: any BatchedRows) throws -> (errors: [Double], distances: [Double]) {
        let n = model.inputDimension, withCodes = kind == .standardizedAndCode
        var errors: [Double] = [], distances: [Double] = []
        errors.reserveCapacity(rows.count)
        try Self.forEachBatch(model: model, rows: rows, errors: true, codes: withCodes) { squared, codes, valid in
            for row in 0..<valid {
                var sum = 0.0
                for j in 0..<n { sum += squared[row * n + j] * errorScale[j] }
                errors.append(sum)
            }
            if withCodes { distances += mahalanobis(codes, dimension: model.latentDim) }
        }
        return (errors, distances)
    }

    /// Each batch of `rows` in order: (xᵢⱼ − x̂ᵢⱼ)² of its valid rows when `errors` (x̂ the reconstruction from the
    /// code, μ for VAEs), their codes when `codes` (empty arrays otherwise), and the number of valid rows.
    private static func forEachBatch(model: Autoencoder, rows: any BatchedRows, errors: Bool, codes: Bool,
                                     _ body: (_ squaredErrors: [Double], _ codes: [Float], _ valid: Int) -> Void) throws {
        let device = model.device, n = model.inputDimension
        try model.forEachCode(of: rows, name: "data") { batch, z in
            let values = codes ? device.read(z.slice(0, batch.valid * model.latentDim)) : []
            var squared: [Double] = []
            if errors {
                let x = device.read(batch.x.slice(0, batch.valid * n))
                let reconstruction = device.read(model.decode(z).slice(0, batch.valid * n))
                squared = zip(x, reconstruction).map { Double($0 - $1) * Double($0 - $1) }
            }
            body(squared, values, batch.valid)
            return true
        }
    }

    /// Squared Mahalanobis distances (z − m)ᵀ Σ⁻¹ (z − m) of whole rows of `dimension` codes, through the
    /// Cholesky factor of Σ.
    private func mahalanobis(_ codes: [Float], dimension l: Int) -> [Double] {
        (0..<(codes.count / l)).map { row in
            var y = [Double](repeating: 0, count: l)
            var sum = 0.0
            for i in 0..<l {
                var value = Double(codes[row * l + i]) - codeMean[i]
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
        let l = codes.dimension
        var sums = [Double](repeating: 0, count: l)
        addSums(codes.values, dimension: l, to: &sums)
        let mean = sums.map { $0 / Double(max(codes.count, 1)) }
        var covariance = [Double](repeating: 0, count: l * l)
        addCovariance(codes.values, mean: mean, to: &covariance)
        return (mean, factor(covariance: covariance, count: codes.count, dimension: l))
    }

    /// Adds each column of whole rows of `dimension` codes to `sums`, row after row.
    private static func addSums(_ codes: [Float], dimension l: Int, to sums: inout [Double]) {
        for row in 0..<(codes.count / l) {
            for j in 0..<l { sums[j] += Double(codes[row * l + j]) }
        }
    }

    /// Adds (zᵢ − mᵢ)(zⱼ − mⱼ) of each row of codes to the lower triangle of `covariance` (l × l).
    private static func addCovariance(_ codes: [Float], mean: [Double], to covariance: inout [Double]) {
        let l = mean.count
        for row in 0..<(codes.count / l) {
            for i in 0..<l {
                let a = Double(codes[row * l + i]) - mean[i]
                for j in 0...i { covariance[i * l + j] += a * (Double(codes[row * l + j]) - mean[j]) }
            }
        }
    }

    /// The lower Cholesky factor of `covariance` (summed over `count` rows) divided by `count`, with the ridge.
    private static func factor(covariance: [Double], count n: Int, dimension l: Int) -> [Double] {
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
        return factor
    }

    /// Mean and population standard deviation (1 when it is zero).
    static func moments(_ values: [Double]) -> Moments {
        let n = Double(max(values.count, 1))
        let mean = values.reduce(0, +) / n
        let deviation = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n).squareRoot()
        return Moments(mean: mean, deviation: deviation > 0 ? deviation : 1)
    }
}
