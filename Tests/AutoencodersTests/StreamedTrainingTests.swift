@testable import Autoencoders
import Compute
import Foundation
import Testing
import TestSupport

/// Training on rows streamed from disk is training on the same rows resident on the device: with the same
/// windowed epoch order, the same weights bit for bit, on every device, from one file or a folder of shards.
@Suite struct StreamedTrainingTests {
    static let order = EpochOrder.windowed(blockRows: 16, windowBlocks: 3)

    static func config() -> ModelConfig {
        var config = ModelConfig(kind: .vae, inputShape: [12])
        config.hidden = [16]
        config.latentDim = 3
        return config
    }

    static func training(epochs: Int = 2) -> TrainingConfig {
        var training = TrainingConfig()
        training.epochs = epochs
        training.batchSize = 20
        training.seed = 3
        training.epochOrder = order
        return training
    }

    /// 250 rows of 12 values in [0, 1] written to `acts.npy`.
    static func writeData(in directory: TemporaryDirectory) throws -> (url: URL, data: Dataset) {
        var rng = TestRandom(seed: 12)
        let values = rng.array(250 * 12, 0, 1)
        let url = directory.file("acts.npy")
        try NPYFormat.write(HostTensor(shape: [250, 12], float32: values), to: url)
        return (url, Dataset(name: "acts", shape: [12], features: values))
    }

    static func model(_ selector: String) throws -> Autoencoder {
        try Autoencoder(config: config(), device: try TestDevices.device(selector), batchSize: 20, seed: 3)
    }

    /// Rows 0..<200 train, 200..<250 validate.
    static func streamed(_ source: any RowSource, device: any Device) throws -> (StreamedDataset, StreamedDataset) {
        (try StreamedDataset(source: source, ranges: [0..<200], device: device, batchSize: 20, chunkRows: order.windowRows),
         try StreamedDataset(source: source, ranges: [200..<250], device: device, batchSize: 20, chunkRows: 30))
    }

    @Test(arguments: TestDevices.selectors)
    func streamedTrainingEqualsResidentTraining(selector: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (url, data) = try Self.writeData(in: directory)
        let resident = try Trainer(model: try Self.model(selector), config: Self.training(),
                                   training: data.subset(Array(0..<200)), validation: data.subset(Array(200..<250)))
        try resident.run()

        // the same rows as one file and as three shards (100 + 100 + 50 rows)
        let folder = directory.file("shards")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (index, rows) in [0..<100, 100..<200, 200..<250].enumerated() {
            try NPYFormat.write(HostTensor(shape: [rows.count, 12], float32: Array(data.features[(rows.lowerBound * 12)..<(rows.upperBound * 12)])),
                                to: folder.appendingPathComponent("part_\(index).npy"))
        }
        for source in [try openRowSource(url), try openRowSource(folder)] {
            let model = try Self.model(selector)
            let (train, validation) = try Self.streamed(source, device: model.device)
            let streamed = try Trainer(model: model, config: Self.training(), training: train, validation: validation)
            try streamed.run()
            #expect(model.weights() == resident.model.weights(), "\(selector) \(source.name): weights")
            #expect(streamed.history.map(\.loss) == resident.history.map(\.loss), "\(selector) \(source.name): losses")
            #expect(streamed.history.map(\.validationLoss) == resident.history.map(\.validationLoss),
                    "\(selector) \(source.name): validation losses")
            // two epochs of 200 rows, one validation pass of 50 rows per epoch, the active units and SAE-free upkeep
            #expect(train.rowsRead >= 400 && validation.rowsRead >= 100)
        }
    }

    @Test func aStreamedEpochInterruptedAndResumedContinuesExactly() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (url, _) = try Self.writeData(in: directory)
        let source = try openRowSource(url)
        func trainer() throws -> Trainer {
            let model = try Self.model("cpu")
            let (train, validation) = try Self.streamed(source, device: model.device)
            return try Trainer(model: model, config: Self.training(), training: train, validation: validation)
        }
        let uninterrupted = try trainer()
        try uninterrupted.run()
        let first = try trainer()
        var steps = 0
        // step 13 is in epoch 2 (10 steps an epoch), in its second window of 48 positions
        try first.run(shouldStop: { steps += 1; return steps == 13 })
        #expect(first.interruptedEpoch == 2)
        let resumed = try trainer()
        try resumed.restore(from: try first.checkpoint(), file: "checkpoint")
        try resumed.run()
        #expect(resumed.model.weights() == uninterrupted.model.weights())
        #expect(resumed.history.map(\.loss) == uninterrupted.history.map(\.loss))
    }

    /// The importance-weighted likelihood of rows streamed from disk (batches that straddle chunks) is the one of
    /// the same rows resident, exactly.
    @Test func theLikelihoodOfStreamedRowsEqualsTheResidentOne() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (url, data) = try Self.writeData(in: directory)
        let model = try Self.model("cpu")
        let rows = try StreamedDataset(source: NPYRowFile(url), ranges: [200..<250], device: model.device, batchSize: 20, chunkRows: 30)
        let streamed = try Evaluation.importanceWeightedLogLikelihood(model: model, data: rows, samples: 4, seed: 7)
        let resident = try Evaluation.importanceWeightedLogLikelihood(model: model, data: data.subset(Array(200..<250)),
                                                                      samples: 4, seed: 7)
        #expect(streamed.isFinite && streamed == resident)
    }

    @Test func aFileChangedDuringTrainingStopsItWithOneLine() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (url, _) = try Self.writeData(in: directory)
        let model = try Self.model("cpu")
        let (train, _) = try Self.streamed(try openRowSource(url), device: model.device)
        let trainer = try Trainer(model: model, config: Self.training(epochs: 3), training: train, validation: nil)
        #expect(throws: DataError(file: "acts.npy", .changed("its size went from 12128 to 6128 bytes"))) {
            try trainer.run(epochEnd: { metrics, _ in
                guard metrics.epoch == 1 else { return }
                let handle = try FileHandle(forWritingTo: url)
                try handle.truncate(atOffset: 6128)
                try handle.close()
            })
        }
        #expect(trainer.history.count == 1, "no epoch after the change passes for a whole one")
    }

    /// Memory held does not grow with the data: the same chunks for 10 times the rows.
    @Test func memoryIsBoundedByTheChunksNotTheData() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let device = try TestDevices.device("cpu")
        var sizes: [(Int, Int)] = []
        for rows in [100, 1000] {
            let url = directory.file("rows-\(rows).npy")
            try NPYFormat.write(HostTensor(shape: [rows, 8], float32: Array(repeating: 0.5, count: rows * 8)), to: url)
            let data = try StreamedDataset(source: try openRowSource(url), device: device, batchSize: 10, chunkRows: 40)
            var batches = data.batches(order: Self.order.order(count: rows, seed: 1, epoch: 0), dropLast: true)
            var seen = 0
            while let batch = batches.next() { seen += batch.valid }
            try batches.check()
            #expect(seen == rows)
            sizes.append((data.deviceBytes, data.hostBytes))
        }
        #expect(sizes[0] == sizes[1] && sizes[0].0 == (3 * 40 + 10) * 8 * 4)
    }
}
