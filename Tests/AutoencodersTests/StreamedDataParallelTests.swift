@testable import Autoencoders
import Compute
import Distributed
import Foundation
import Testing
import TestSupport

/// Data-parallel ranks streaming one file each read only the rows of the global batches they train on, and train
/// what one process streaming the whole file trains.
@Suite struct StreamedDataParallelTests {
    /// The weights and history of a VAE trained on rows 0..<200 of `url` (validated on 200..<250), streamed, as one
    /// of `communicator.size` ranks, and the rows its training data set read.
    static func train(_ url: URL, selector: String, communicator: any Communicator)
        throws -> (weights: [String: HostTensor], history: [EpochMetrics], rowsRead: Int) {
        let training = StreamedTrainingTests.training()
        let model = try Autoencoder(config: StreamedTrainingTests.config(), device: try TestDevices.device(selector),
                                    batchSize: training.batchSize / communicator.size, seed: training.seed)
        let source = try openRowSource(url)
        let order = StreamedTrainingTests.order
        let train = try StreamedDataset(source: source, ranges: [0..<200], device: model.device, batchSize: model.batchSize,
                                        chunkRows: order.windowRows)
        let validation = try StreamedDataset(source: source, ranges: [200..<250], device: model.device,
                                             batchSize: model.batchSize, chunkRows: 30)
        let trainer = try Trainer(model: model, config: training, training: train, validation: validation,
                                  communicator: communicator)
        try trainer.run()
        return (model.weights(), trainer.history, train.rowsRead)
    }

    @Test(arguments: TestDevices.selectors)
    func eachRankReadsItsRowsAndTheRanksTrainWhatOneProcessTrains(selector: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (url, _) = try StreamedTrainingTests.writeData(in: directory)
        let alone = try Self.train(url, selector: selector, communicator: SingleProcess())
        let group = ThreadedShards(parties: 2)
        let ranks = try group.run { rank in
            try Self.train(url, selector: selector, communicator: ThreadedRank(group: group, rank: rank))
        }
        // two epochs of 10 global batches of 20: 400 rows alone, 10 of each batch on each rank
        #expect(alone.rowsRead == 400 && ranks.map(\.rowsRead) == [200, 200], "\(ranks.map(\.rowsRead))")
        DataParallelTrainerTests.expect(ranks.map(\.weights), toMatch: alone.weights, selector)
        for (a, b) in zip(alone.history, ranks[0].history) {
            #expect(abs(a.loss - b.loss) <= 1e-5 * abs(a.loss), "\(selector) epoch \(a.epoch): loss \(b.loss) vs \(a.loss)")
        }
    }
}
