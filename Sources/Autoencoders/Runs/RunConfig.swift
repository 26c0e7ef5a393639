import Foundation
import Compute

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
    /// The anomaly-detection split, when the run trained on normal samples only.
    public var normalSplit: NormalSplit?
    /// How the data was streamed from disk (its splits are whole blocks, ``StreamedSplits``); nil: loaded whole.
    public var stream: StreamLayout?

    public init(source: String, csv: CSVOptions, shape: [Int], normalizer: Normalizer, testFraction: Double,
                normalSplit: NormalSplit? = nil) {
        self.source = source
        self.csv = csv
        self.shape = shape
        self.normalizer = normalizer
        self.testFraction = testFraction
        self.normalSplit = normalSplit
    }
}

/// The split of anomaly detection (`train --normal-label L [--normal-count N]`): the training part (training and
/// validation) is N samples of label L drawn by a seeded shuffle; the test part is every other sample — the
/// remaining normal ones and all anomalies (labels ≠ L) — in the file's order.
public struct NormalSplit: Codable, Equatable, Sendable {
    /// The label of normal samples.
    public var label: Int32
    /// Normal samples to train on; nil: a (1 − testFraction) share of the normal samples.
    public var count: Int?

    public init(label: Int32, count: Int?) {
        self.label = label
        self.count = count
    }

    /// Splits `data` (which must have labels) into the normal training part and the test part.
    ///
    /// - Throws: `invalidArgument` without labels, without samples of the label, or for a count out of range.
    public func apply(to data: Dataset, testFraction: Double, seed: UInt64) throws -> (train: Dataset, test: Dataset) {
        guard let labels = data.labels else {
            throw DataError(file: data.name, .invalidArgument("--normal-label needs labelled data"))
        }
        let normal = labels.indices.filter { labels[$0] == label }
        guard !normal.isEmpty else {
            throw DataError(file: data.name, .invalidArgument("no samples have the normal label \(label)"))
        }
        let wanted = count ?? Int((Double(normal.count) * (1 - testFraction)).rounded())
        guard wanted > 0, wanted <= normal.count else {
            throw DataError(file: data.name, .invalidArgument("--normal-count \(wanted) must lie in 1...\(normal.count), the samples labelled \(label)"))
        }
        var generator = SplitMix64(seed: seed)
        var order = normal
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, Int(generator.next(upperBound: UInt64(i + 1))))
        }
        let chosen = Array(order.prefix(wanted))
        let taken = Set(chosen)
        return (data.subset(chosen, name: data.name + "-normal"),
                data.subset(labels.indices.filter { !taken.contains($0) }, name: data.name + "-test"))
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
    /// The precision of the run's matrix products (absent in runs written before TF32 existed: FP32).
    public var precision: MatmulPrecision?
    /// Models in the run's anomaly-detection ensemble (absent: 1, the run's own model): members 2… train on the
    /// same data from seeds seed + 1, seed + 2, … into `members/K/` (see ``RunDirectory/member(_:)``).
    public var ensemble: Int?
    /// The expected fraction of anomalies among the training rows of an anomaly detector fitted on unlabelled,
    /// contaminated rows (`train --contamination`): `detect`'s default threshold is the (1 − contamination)
    /// quantile of the training rows' scores. Absent: the training rows are taken as normal.
    public var contamination: Double?

    public init(model: ModelConfig, training: TrainingConfig, data: DataDescription, device: String,
                precision: MatmulPrecision? = nil, ensemble: Int? = nil) {
        self.ensemble = ensemble
        self.model = model
        self.training = training
        self.data = data
        self.device = device
        self.precision = precision
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
    ///
    /// With `normalSplit` (anomaly detection) the training and validation parts hold only normal samples and the
    /// test part everything else (see ``NormalSplit``).
    ///
    /// `normalization` nil picks `none` for images and `tableNormalization` for tables.
    public static func load(source: String, csv: CSVOptions, normalization: Normalizer.Method?, testFraction: Double,
                            validationFraction: Double, seed: UInt64, normalSplit: NormalSplit? = nil,
                            tableNormalization: Normalizer.Method = .minmax) throws -> PreparedData {
        let data = try DataSource(parsing: source, csv: csv)
        let (full, test) = try split(data, testFraction: testFraction, normalSplit: normalSplit, seed: seed)
        guard full.count > 0 else { throw DataError(file: source, .invalidArgument("no training samples")) }
        let (train, validation) = try splitValidation(full, fraction: validationFraction, seed: seed)
        let method = normalization ?? (full.shape.count == 3 ? .none : tableNormalization)
        let normalizer = Normalizer(method, fittedOn: train)
        return PreparedData(train: try normalizer.apply(to: train), validation: try validation.map(normalizer.apply),
                            test: try normalizer.apply(to: test),
                            description: DataDescription(source: source, csv: csv, shape: full.shape,
                                                         normalizer: normalizer, testFraction: testFraction,
                                                         normalSplit: normalSplit))
    }

    /// The training (with validation) and test parts of a source.
    private static func split(_ data: DataSource, testFraction: Double, normalSplit: NormalSplit?,
                              seed: UInt64) throws -> (train: Dataset, test: Dataset) {
        guard let normalSplit else { return try data.loadSplit(testFraction: testFraction, seed: seed) }
        return try normalSplit.apply(to: data.load(), testFraction: testFraction, seed: seed)
    }

    /// The training part without and with its seeded validation share (none when either part would be empty).
    static func splitValidation(_ full: Dataset, fraction: Double, seed: UInt64) throws -> (Dataset, Dataset?) {
        guard fraction > 0 else { return (full, nil) }
        let parts = try full.split(seed: seed ^ 0x7A11_DA7E, fraction: 1 - fraction)
        return parts.test.count > 0 && parts.train.count > 0 ? (parts.train, parts.test) : (full, nil)
    }

    /// Loads data for a trained run: the source given (or the run's own) through the run's normalizer. A source
    /// other than the run's own is loaded whole, whatever `split` says, with `csv` (default: the run's own CSV
    /// options) naming its label and feature columns; unless `requireLabels`, a CSV file without the label
    /// column is read unlabelled (new rows to score).
    public static func load(source: String?, for config: RunConfig, split: Split = .test,
                            csv: CSVOptions? = nil, requireLabels: Bool = false) throws -> Dataset {
        let description = config.data
        let own = source == nil || source == description.source
        if own, let splits = try StreamedSplits.load(for: config) {
            // a streamed run's splits are whole blocks; the part asked for is loaded whole
            return try splits.loadAll(splits.ranges(of: split), name: splits.name(of: split))
        }
        let dataSource = try DataSource(parsing: source ?? description.source,
                                        csv: own ? description.csv : csv ?? description.csv)
        let dataset: Dataset
        if own {
            let seed = config.training.seed
            let parts = try Self.split(dataSource, testFraction: description.testFraction,
                                       normalSplit: description.normalSplit, seed: seed)
            switch split {
            case .test: dataset = parts.test
            case .train: dataset = parts.train
            case .training: dataset = try splitValidation(parts.train, fraction: config.training.validationFraction, seed: seed).0
            case .all: dataset = try dataSource.load()
            case .validation:
                let (train, validation) = try splitValidation(parts.train, fraction: config.training.validationFraction, seed: seed)
                dataset = validation ?? train
            }
        } else {
            dataset = try (requireLabels ? dataSource : dataSource.withoutAbsentLabel()).load()
        }
        guard dataset.dimension == description.normalizer.dimension else {
            throw DataError(file: source ?? description.source, .mismatch(
                "samples have \(dataset.dimension) features, the run was trained on \(description.normalizer.dimension)"))
        }
        return try description.normalizer.apply(to: Dataset(name: dataset.name, shape: description.shape,
                                                            storage: dataset.storage, labels: dataset.labels))
    }

    /// Which part of a run's own data set to load.
    public enum Split: Sendable {
        /// Training and validation together.
        case train
        /// The samples the model trained on: the training part without its validation share.
        case training
        /// The held-out test part.
        case test
        /// The validation share of the training part (the whole training part when the run kept none).
        case validation
        /// Every sample of the source, in its order (digits: the 1,500 training images).
        case all
    }
}
