import Compute
import Foundation

/// An anomaly detector in the shape users know from PyOD and scikit-learn: fitted on rows (normal ones, or rows
/// with an expected share of anomalies), it gives every new row a continuous score and a decision against its
/// threshold, from rows held in memory — a service scoring requests needs no files — and saves and loads itself
/// with its scaling, models, fitted scores and threshold.
///
/// Fitting follows the detection recipe (``DetectionRecipe``): tables are z-scored and images kept as they are, an
/// ensemble of plain autoencoders sized to the input trains from seeds S, S + 1, …, each member's score
/// (``AnomalyScorer``) is fitted on the training rows and standardized there, and the detector's score is their
/// mean. The threshold never comes from the rows the models trained on unless they are known to hold anomalies:
///
/// ```swift
/// let detector = try AnomalyDetector(fitting: normalRows, device: try Devices.open(.auto))
/// let scores = try detector.scores(newRows)          // one per row: higher is more anomalous
/// let flagged = scores.map { $0 > detector.threshold }
/// try detector.save(to: URL(fileURLWithPath: "detector"))
/// ```
public final class AnomalyDetector {
    /// How a detector is fitted.
    public struct Options: Codable, Equatable, Sendable {
        /// Models in the ensemble.
        public var ensemble = DetectionRecipe.ensemble
        /// The expected fraction of anomalies among the rows fitted on (PyOD's `contamination`, 0 < c < 0.5): the
        /// threshold is then the (1 − c) quantile of the scores of every row fitted on. Nil: the rows are normal,
        /// and the threshold is the ``percentile``-th percentile of the scores of the held-out validation rows.
        public var contamination: Double?
        /// With no contamination, the percentile (0…100) of the validation rows' scores that sets the threshold.
        public var percentile = 95.0
        /// The share of rows held out of training: their scores set the threshold, and images stop early on them.
        public var validationFraction = 0.1
        /// The seed of the first member (the others take the next ones) and of the validation split.
        public var seed: UInt64 = 0

        /// The recipe's defaults: five members, normal rows, the 95th percentile of 10% held out, seed 0.
        public init() {}
    }

    /// The options it was fitted with.
    public let options: Options
    /// The scaling fitted on the training rows (z-scores for tables, none for images), applied to every row scored.
    public let normalizer: Normalizer
    /// The members' models and their fitted scores.
    public let ensemble: AnomalyEnsemble
    /// Rows scoring above this are anomalies.
    public let threshold: Double

    /// The shape of one row (`[features]` for tables, `[channels, height, width]` for images).
    public var sampleShape: [Int] { ensemble.models[0].config.inputShape }
    /// The values in one row.
    public var dimension: Int { sampleShape.reduce(1, *) }

    /// Fits a detector on `rows` (their labels, if any, are ignored) on `device`.
    ///
    /// - Throws: `ConfigError` for options out of range or too few rows to hold one out; what training throws.
    public convenience init(fitting rows: Dataset, options: Options = Options(), device: any Device) throws {
        let contaminated = try options.contamination.map(ThresholdRule.contamination)
        guard options.ensemble >= 1, (0...100).contains(options.percentile), (0..<1).contains(options.validationFraction) else {
            throw ConfigError.invalid("an ensemble of at least one model, a percentile within 0…100 and a validation fraction within [0, 1)")
        }
        guard rows.count >= 2 else { throw DataError(file: rows.name, .invalidArgument("a detector needs at least 2 rows, got \(rows.count)")) }
        let isTable = rows.shape.count == 1
        let (fitted, validation) = try PreparedData.splitValidation(rows, fraction: options.validationFraction, seed: options.seed)
        let normalizer = Normalizer(isTable ? .zscore : .none, fittedOn: fitted)
        let train = try normalizer.apply(to: fitted), held = try validation.map(normalizer.apply)

        let recipe = DetectionRecipe(isTable: isTable)
        var model = ModelConfig(kind: .ae, architecture: .mlp, inputShape: rows.shape)
        (model.hidden, model.latentDim) = DetectionRecipe.network(forInput: rows.dimension)
        model.likelihood = train.features.allSatisfy { $0 >= 0 && $0 <= 1 } ? .bernoulli : .gaussian
        try model.validate()
        var training = TrainingConfig()
        training.epochs = recipe.epochs
        training.batchSize = min(recipe.batchSize, train.count)
        // without held-out rows the training loss is watched instead
        training.earlyStoppingPatience = recipe.earlyStopping
        training.validationFraction = options.validationFraction
        training.checkpointEvery = 0
        var models: [Autoencoder] = []
        for member in 0..<options.ensemble {
            training.seed = options.seed &+ UInt64(member)
            let autoencoder = try Autoencoder(config: model, device: device, batchSize: training.batchSize, seed: training.seed)
            try Trainer(model: autoencoder, config: training, training: train, validation: held).run()
            models.append(autoencoder)
        }
        let ensemble = try AnomalyEnsemble(models: models, kind: recipe.score, normal: train, seed: options.seed)
        // with contamination, every row fitted on, anomalies among them (PyOD's threshold_); else the held-out rows
        let judged = contaminated == nil ? try ensemble.scores(held ?? train)
            : try ensemble.scores(train) + (held.map { try ensemble.scores($0) } ?? [])
        let threshold = try (contaminated ?? .percentile(options.percentile)).threshold(validation: judged, scores: [], labels: nil)
        self.init(options: options, normalizer: normalizer, ensemble: ensemble, threshold: threshold)
    }

    private init(options: Options, normalizer: Normalizer, ensemble: AnomalyEnsemble, threshold: Double) {
        self.options = options
        self.normalizer = normalizer
        self.ensemble = ensemble
        self.threshold = threshold
    }

    /// The score of each row of `rows`, `dimension` values a row, as they come (the detector scales them): higher
    /// is more anomalous, in units of the normal training rows' spread.
    ///
    /// - Throws: `invalidArgument` when the values are not a whole number of rows, or are not finite.
    public func scores(_ rows: [Float]) throws -> [Double] {
        guard rows.count % dimension == 0 else {
            throw DataError(file: "rows", .invalidArgument("\(rows.count) values are not a whole number of rows of \(dimension)"))
        }
        guard rows.allSatisfy(\.isFinite) else { throw DataError(file: "rows", .nonFinite("a value that is not a finite number")) }
        return try scores(Dataset(name: "rows", shape: sampleShape, features: rows))
    }

    /// The score of every sample of `data`, in order (its labels, if any, are ignored).
    ///
    /// - Throws: `mismatch` when its samples do not have the detector's width.
    public func scores(_ data: Dataset) throws -> [Double] {
        guard data.dimension == dimension else {
            throw DataError(file: data.name, .mismatch("samples have \(data.dimension) features, the detector was fitted on \(dimension)"))
        }
        guard data.count > 0 else { return [] }
        return try ensemble.scores(try normalizer.apply(to: Dataset(name: data.name, shape: sampleShape, storage: data.storage)))
    }

    /// Whether each row scores above the threshold.
    public func isAnomalous(_ rows: [Float]) throws -> [Bool] {
        try scores(rows).map { $0 > threshold }
    }

    // MARK: Saving

    /// What `detector.json` holds: everything but the weights, which sit beside it as `member-K.safetensors`.
    private struct Saved: Codable {
        var format = AnomalyDetector.format
        var options: Options
        var model: ModelConfig
        var batchSize: Int
        var normalizer: Normalizer
        var scorers: [AnomalyScorer]
        var threshold: Double
    }

    /// The format tag of `detector.json`.
    static let format = "autoencoderkit-detector-1"

    /// The weights file of member `index` (from 1) in a saved detector's folder.
    private static func memberURL(_ folder: URL, _ index: Int) -> URL {
        folder.appendingPathComponent("member-\(index).safetensors")
    }

    /// Writes the detector to `folder` (created if need be): `detector.json` and one safetensors file per member,
    /// each written to a temporary name and renamed, `detector.json` last.
    public func save(to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (index, model) in ensemble.models.enumerated() { try model.save(to: Self.memberURL(folder, index + 1)) }
        let first = ensemble.models[0]
        let saved = Saved(options: options, model: first.config, batchSize: first.batchSize, normalizer: normalizer,
                          scorers: ensemble.scorers, threshold: threshold)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(saved), to: folder.appendingPathComponent("detector.json"))
    }

    /// Reads a detector that ``save(to:)`` wrote, onto `device`.
    ///
    /// - Throws: `DataError` for a missing or unreadable file, another format, or weights of another shape.
    public convenience init(contentsOf folder: URL, device: any Device) throws {
        let url = folder.appendingPathComponent("detector.json")
        let saved: Saved
        do {
            saved = try JSONDecoder().decode(Saved.self, from: Data(contentsOf: url))
        } catch let error as DecodingError {
            throw DataError(file: url.path, .malformed("not a detector written by AnomalyDetector.save: \(error.localizedDescription)"))
        } catch {
            throw DataError(file: url.path, .unreadable(error.localizedDescription))
        }
        guard saved.format == Self.format, !saved.scorers.isEmpty else {
            throw DataError(file: url.path, .malformed("format \(saved.format), expected \(Self.format)"))
        }
        var models: [Autoencoder] = []
        for index in 1...saved.scorers.count {
            let file = Self.memberURL(folder, index)
            let model = try Autoencoder(config: saved.model, device: device, batchSize: saved.batchSize,
                                        seed: saved.options.seed &+ UInt64(index - 1))
            try model.load(weights: try SafeTensorsFormat.read(file).tensors, file: file.path)
            models.append(model)
        }
        self.init(options: saved.options, normalizer: saved.normalizer,
                  ensemble: AnomalyEnsemble(models: models, scorers: saved.scorers), threshold: saved.threshold)
    }
}
