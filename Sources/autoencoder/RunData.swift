import AutoencoderKit
import Foundation

/// A run's data: loaded whole (``PreparedData``) or streamed from disk (``StreamedSplits``, `--stream`).
enum RunData {
    case resident(PreparedData)
    case streamed(StreamedSplits)

    /// Where the data came from and how it was split and normalized (the run's `config.json` keeps it).
    var description: DataDescription {
        switch self {
        case .resident(let prepared): return prepared.description
        case .streamed(let splits): return splits.description
        }
    }

    /// Samples the model trains on.
    var trainingCount: Int {
        switch self {
        case .resident(let prepared): return prepared.train.count
        case .streamed(let splits): return splits.counts.train
        }
    }

    /// The data loaded whole, for what trains on resident data only (ensembles).
    var resident: PreparedData? {
        if case .resident(let prepared) = self { return prepared }
        return nil
    }

    /// A trainer of `model` on the training and validation splits, as one of `communicator.size` ranks.
    func trainer(model: Autoencoder, config: TrainingConfig, communicator: any Communicator) throws -> Trainer {
        switch self {
        case .resident(let prepared):
            return try Trainer(model: model, config: config, training: prepared.train, validation: prepared.validation,
                               communicator: communicator)
        case .streamed(let splits):
            func rows(_ ranges: [Range<Int>]) throws -> StreamedDataset {
                try splits.dataset(ranges, device: model.device, batchSize: model.batchSize, ranks: communicator.size)
            }
            return try Trainer(model: model, config: config, training: try rows(splits.train),
                               validation: splits.validation.isEmpty ? nil : try rows(splits.validation),
                               communicator: communicator)
        }
    }

    /// The test split's loss terms under `model`, or nil without a test split.
    func evaluateTest(model: Autoencoder, seed: UInt64) throws -> EvaluationResult? {
        switch self {
        case .resident(let prepared):
            return prepared.test.count == 0 ? nil : try Evaluation.run(model: model, data: prepared.test, seed: seed)
        case .streamed(let splits):
            guard !splits.test.isEmpty else { return nil }
            let rows = try splits.dataset(splits.test, device: model.device, batchSize: model.batchSize)
            return try Evaluation.run(model: model, data: rows, seed: seed)
        }
    }
}
