import AutoencoderKit
import Foundation

/// Samples `detect` scores, fits its scores on, or chooses its threshold on: loaded whole, or streamed from disk
/// a batch at a time (a streamed run's splits, a `.npy` file or shard folder over the memory budget).
enum DetectionData {
    case resident(Dataset)
    case streamed(StreamedData)

    /// `source` (nil: the run's own data, its `split`), streamed where ``StreamedData/open(_:for:split:choice:device:)``
    /// says so, else loaded whole through the run's normalizer with `csv` (a CSV file without the label column
    /// unlabelled, unless `requireLabels`).
    static func load(_ source: String?, for config: RunConfig, split: PreparedData.Split, csv: CSVOptions,
                     requireLabels: Bool = false, choice: StreamChoice, device: any Device) throws -> DetectionData {
        if let streamed = try StreamedData.open(source, for: config, split: split, choice: choice, device: device) {
            return .streamed(streamed)
        }
        return .resident(try PreparedData.load(source: source, for: config, split: split, csv: csv, requireLabels: requireLabels))
    }

    /// Number of samples.
    var count: Int {
        switch self {
        case .resident(let data): return data.count
        case .streamed(let data): return data.count
        }
    }

    /// The samples' labels (streamed data has none).
    var labels: [Int32]? {
        if case .resident(let data) = self { return data.labels }
        return nil
    }

    /// The data's name in messages.
    var name: String {
        switch self {
        case .resident(let data): return data.name
        case .streamed(let data): return data.name
        }
    }

    /// `kind` fitted to each of `models` on these samples, batched for `batchSize` (the models' batch size).
    func ensemble(models: [Autoencoder], kind: AnomalyScoreKind, seed: UInt64, draws: Int, device: any Device,
                  batchSize: Int) throws -> AnomalyEnsemble {
        switch self {
        case .resident(let data):
            return try AnomalyEnsemble(models: models, kind: kind, normal: data, seed: seed, draws: draws)
        case .streamed(let data):
            return try AnomalyEnsemble(models: models, kind: kind, normal: try data.rows(device: device, batchSize: batchSize),
                                       seed: seed, draws: draws)
        }
    }

    /// The ensemble's score of every sample, in order.
    func scores(_ ensemble: AnomalyEnsemble, device: any Device, batchSize: Int) throws -> [Double] {
        switch self {
        case .resident(let data): return try ensemble.scores(data)
        case .streamed(let data): return try ensemble.scores(try data.rows(device: device, batchSize: batchSize))
        }
    }
}
