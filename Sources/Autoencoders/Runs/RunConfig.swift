import Foundation

/// Where a run's data came from and how it was normalized, so later commands load and scale data the same way.
public struct DataDescription: Codable, Equatable, Sendable {
    /// The data argument as given (`digits`, `breast-cancer` or a path).
    public var source: String
    /// CSV options used to read it.
    public var csv: CSVOptions
    /// Per-sample shape.
    public var shape: [Int]
    /// The normalization fitted on the training split.
    public var normalizer: Normalizer
    /// Fraction held out as the test split (ignored for `digits`, which ships its own).
    public var testFraction: Double

    public init(source: String, csv: CSVOptions, shape: [Int], normalizer: Normalizer, testFraction: Double) {
        self.source = source
        self.csv = csv
        self.shape = shape
        self.normalizer = normalizer
        self.testFraction = testFraction
    }
}

/// A run's `config.json`: everything needed to rebuild the model and its data pipeline.
public struct RunConfig: Codable, Equatable, Sendable {
    /// Format tag of the file.
    public var format = "autoencoderkit-run-1"
    public var model: ModelConfig
    public var training: TrainingConfig
    public var data: DataDescription
    /// The device the run trained on (`cpu`, `opencl:N`).
    public var device: String

    public init(model: ModelConfig, training: TrainingConfig, data: DataDescription, device: String) {
        self.model = model
        self.training = training
        self.data = data
        self.device = device
    }
}

/// Training, validation and test data, normalized with a normalizer fitted on the training part.
public struct PreparedData: Sendable {
    public var train: Dataset
    public var validation: Dataset?
    public var test: Dataset
    public var description: DataDescription

    /// Loads `source`, splits off the test part (digits: the shipped split) and a validation fraction of the rest
    /// (seeded), and normalizes all three with statistics of the training part.
    public static func load(source: String, csv: CSVOptions, normalization: Normalizer.Method?, testFraction: Double,
                            validationFraction: Double, seed: UInt64) throws -> PreparedData {
        let data = try DataSource(parsing: source, csv: csv)
        let (full, test) = try data.loadSplit(testFraction: testFraction, seed: seed)
        guard full.count > 0 else { throw DataError(file: source, .invalidArgument("no training samples")) }
        var train = full, validation: Dataset?
        if validationFraction > 0 {
            let parts = try full.split(seed: seed ^ 0x7A11_DA7E, fraction: 1 - validationFraction)
            if parts.test.count > 0 && parts.train.count > 0 { (train, validation) = (parts.train, parts.test) }
        }
        let method = normalization ?? (full.shape.count == 3 ? .none : .minmax)
        let normalizer = Normalizer(method, fittedOn: train)
        return PreparedData(train: try normalizer.apply(to: train), validation: try validation.map(normalizer.apply),
                            test: try normalizer.apply(to: test),
                            description: DataDescription(source: source, csv: csv, shape: full.shape,
                                                         normalizer: normalizer, testFraction: testFraction))
    }

    /// Loads data for a trained run: the source given (or the run's own) through the run's normalizer.
    public static func load(source: String?, for config: RunConfig, split: Split = .test) throws -> Dataset {
        let description = config.data
        let dataSource = try DataSource(parsing: source ?? description.source,
                                        csv: source == nil ? description.csv : description.csv)
        let dataset: Dataset
        if source == nil || source == description.source {
            let parts = try dataSource.loadSplit(testFraction: description.testFraction, seed: config.training.seed)
            dataset = split == .test ? parts.test : parts.train
        } else {
            dataset = try dataSource.load()
        }
        guard dataset.dimension == description.normalizer.dimension else {
            throw DataError(file: source ?? description.source, .mismatch(
                "samples have \(dataset.dimension) features, the run was trained on \(description.normalizer.dimension)"))
        }
        return try description.normalizer.apply(to: Dataset(name: dataset.name, shape: description.shape,
                                                            features: dataset.features, labels: dataset.labels))
    }

    /// Which part of a run's own data set to load.
    public enum Split: Sendable { case train, test }
}
