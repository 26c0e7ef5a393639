@testable import Autoencoders
import Compute
import Distributed
import Foundation
import Testing
import TestSupport

/// One rank of a job whose ranks are threads of this process, summing through ``ThreadedShards``' barrier: the
/// trainer's data-parallel path without MPI.
struct ThreadedRank: Communicator {
    let group: ThreadedShards
    let rank: Int
    /// Added to this rank's result of every float all-reduce (a faulty transport, for the divergence check).
    var corruption: Float = 0
    var size: Int { group.parties }
    var localRank: Int { rank }

    func allReduceSum(_ values: inout [Float]) throws {
        var wide = values.map(Double.init)
        group.sumOverShards(&wide)
        values = wide.map { Float($0) + corruption }
    }
    func allReduceSum(_ values: inout [Double]) throws { group.sumOverShards(&values) }
    func broadcast(_ values: inout [Float], root: Int) throws {
        var wide = rank == root ? values.map(Double.init) : [Double](repeating: 0, count: values.count)
        group.sumOverShards(&wide)
        values = wide.map { Float($0) }
    }
    func barrier() throws {
        var none: [Double] = []
        group.sumOverShards(&none)
    }
    func abort(code: Int32) -> Never { fatalError("rank \(rank) aborted the job with code \(code)") }
    func finalize() throws {}
}

/// N ranks of the trainer train the model one process trains on the same global batches: the same weights within
/// float rounding, the same epoch metrics, every rank bit-identical to the others.
@Suite struct DataParallelTrainerTests {
    /// A model, and its optimizer. The batch-norm model trains with SGD: the gradient of a bias feeding batch norm
    /// is zero up to rounding, and Adam, which divides by its root mean square, turns that rounding into steps of
    /// the full learning rate in a direction the summation order decides.
    static let configs: [(String, ModelConfig, OptimizerKind)] = {
        func config(_ kind: ModelKind, _ change: (inout ModelConfig) -> Void = { _ in }) -> ModelConfig {
            var config = ModelConfig(kind: kind, inputShape: [12])
            config.hidden = [16]
            config.latentDim = 4
            change(&config)
            return config
        }
        return [
            ("vae with free bits", config(.vae) { $0.freeBits = 0.03 }, .adam),
            ("vq-vae, EMA", config(.vqVAE) { $0.vq.codeDim = 2; $0.vq.codebookSize = 8; $0.vq.ema = true }, .adam),
            ("ae with batch norm", config(.ae) { $0.batchNorm = .both }, .sgd),
        ]
    }()

    static func data(count: Int) -> Dataset {
        var rng = TestRandom(seed: 8)
        return Dataset(name: "uniform", shape: [12], features: rng.array(count * 12, 0, 1))
    }

    static func train(_ config: ModelConfig, optimizer: OptimizerKind, selector: String,
                      communicator: any Communicator) throws -> (weights: [String: HostTensor], history: [EpochMetrics]) {
        var training = TrainingConfig()
        training.optimizer = optimizer
        training.learningRate = optimizer == .sgd ? 0.05 : 1e-3
        training.epochs = 2
        training.batchSize = 16
        training.seed = 4
        let device = try Devices.open(DeviceSelection(parsing: selector))
        let model = try Autoencoder(config: config, device: device, batchSize: training.batchSize / communicator.size,
                                    seed: training.seed)
        let data = data(count: 80)
        let trainer = try Trainer(model: model, config: training, training: data.subset(Array(0..<64)),
                                  validation: data.subset(Array(64..<80)), communicator: communicator)
        try trainer.run()
        return (model.weights(), trainer.history)
    }

    @Test(arguments: TestDevices.selectors)
    func twoRanksTrainWhatOneProcessTrains(selector: String) throws {
        for (name, config, optimizer) in Self.configs {
            let alone = try Self.train(config, optimizer: optimizer, selector: selector, communicator: SingleProcess())
            let group = ThreadedShards(parties: 2)
            let ranks = try group.run { rank in
                try Self.train(config, optimizer: optimizer, selector: selector,
                               communicator: ThreadedRank(group: group, rank: rank))
            }
            Self.expect(ranks.map(\.weights), toMatch: alone.weights, "\(selector) \(name)")
            for (a, b) in zip(alone.history, ranks[0].history) {
                #expect(abs(a.loss - b.loss) <= 1e-5 * abs(a.loss), "\(selector) \(name) epoch \(a.epoch): loss \(b.loss) vs \(a.loss)")
                #expect(a.perplexity.map { p in abs(p - (b.perplexity ?? .nan)) <= 1e-4 * p } ?? true,
                        "\(selector) \(name) epoch \(a.epoch): perplexity")
            }
        }
    }

    /// The tensors of two ranks equal each other and, for float32 ones, lie within 1e-5 · max |w| of one process's;
    /// other tensors (counters) equal one process's.
    static func expect(_ ranks: [[String: HostTensor]], toMatch alone: [String: HostTensor], _ label: String) {
        for (tensor, expected) in alone {
            if case .int64 = expected.elements {
                #expect(ranks.allSatisfy { $0[tensor] == expected }, "\(label): \(tensor)")
                continue
            }
            guard case .float32(let reference) = expected.elements,
                  case .float32(let rank0) = ranks[0][tensor]?.elements,
                  case .float32(let rank1) = ranks[1][tensor]?.elements else {
                Issue.record("\(label): \(tensor) missing or not float32")
                continue
            }
            #expect(rank0 == rank1, "\(label): \(tensor) differs between the ranks")
            let scale = reference.map { abs(Double($0)) }.max() ?? 0
            let difference = zip(rank0, reference).map { abs(Double($0) - Double($1)) }.max() ?? 0
            #expect(difference <= 1e-5 * max(scale, 1e-3), "\(label): \(tensor) max |Δ| \(difference), max |w| \(scale)")
        }
    }

    /// A rank whose gradients arrive corrupted ends up with other parameters: the checksum after the epoch names it.
    @Test func divergedRanksAreCaughtAfterTheEpoch() throws {
        let (_, config, optimizer) = Self.configs[0]
        let group = ThreadedShards(parties: 2)
        let errors = try group.run { rank -> String in
            do {
                _ = try Self.train(config, optimizer: optimizer, selector: "cpu",
                                   communicator: ThreadedRank(group: group, rank: rank, corruption: rank == 1 ? 1e-3 : 0))
                return "no error"
            } catch {
                return String(describing: error)
            }
        }
        #expect(errors == Array(repeating: TrainingError.diverged(epoch: 1, rank: 1).description, count: 2))
    }

    /// Ranks given different data fail at start, every one with the same line naming the difference.
    @Test func ranksThatDisagreeFailAtStart() throws {
        let (_, config, _) = Self.configs[0]
        let group = ThreadedShards(parties: 2)
        let errors = try group.run { rank -> String in
            var training = TrainingConfig()
            training.batchSize = 16
            let device = try Devices.open(DeviceSelection(parsing: "cpu"))
            let model = try Autoencoder(config: config, device: device, batchSize: 8, seed: 0)
            do {
                _ = try Trainer(model: model, config: training, training: Self.data(count: rank == 0 ? 64 : 48),
                                validation: nil, communicator: ThreadedRank(group: group, rank: rank))
                return "no error"
            } catch {
                return String(describing: error)
            }
        }
        #expect(errors == Array(repeating: "the ranks disagree on the number of training samples: rank 0 has 64, rank 1 has 48",
                                count: 2))
    }

    /// The global batch must divide by the ranks.
    @Test func globalBatchMustDivideByTheRanks() throws {
        let group = ThreadedShards(parties: 2)
        var training = TrainingConfig()
        training.batchSize = 15
        let device = try Devices.open(DeviceSelection(parsing: "cpu"))
        let model = try Autoencoder(config: Self.configs[0].1, device: device, batchSize: 7, seed: 0)
        #expect(throws: ConfigError.invalid("--batch-size 15 must divide by the 2 ranks: it is the global batch, each rank takes an equal part (use 14)")) {
            try Trainer(model: model, config: training, training: Self.data(count: 64), validation: nil,
                        communicator: ThreadedRank(group: group, rank: 0))
        }
    }

    /// A stop requested on one rank stops every rank after the same step; rank 0's checkpoint, restored on every
    /// rank, continues as the uninterrupted run: the same weights bit for bit, the same epoch metrics.
    @Test(arguments: TestDevices.selectors)
    func aStopOnOneRankIsAgreedAndResumes(selector: String) throws {
        let (name, config, optimizer) = Self.configs[1]
        @Sendable func trainer(_ communicator: any Communicator) throws -> Trainer {
            var training = TrainingConfig()
            training.epochs = 2
            training.batchSize = 16
            training.seed = 4
            training.optimizer = optimizer
            let device = try Devices.open(DeviceSelection(parsing: selector))
            let model = try Autoencoder(config: config, device: device, batchSize: 8, seed: training.seed)
            let data = Self.data(count: 80)
            return try Trainer(model: model, config: training, training: data.subset(Array(0..<64)),
                               validation: data.subset(Array(64..<80)), communicator: communicator)
        }
        let group = ThreadedShards(parties: 2)
        let uninterrupted = try group.run { rank in
            let t = try trainer(ThreadedRank(group: group, rank: rank))
            try t.run()
            return (t.model.weights(), t.history)
        }
        let stopped = try group.run { rank in
            let t = try trainer(ThreadedRank(group: group, rank: rank))
            var asked = 0
            // rank 1 alone is asked to stop, at its sixth step (the second of epoch 2)
            try t.run(shouldStop: { asked += 1; return rank == 1 && asked == 6 })
            return (t.interruptedEpoch, t.step, rank == 0 ? try t.checkpoint() : nil)
        }
        #expect(stopped.map(\.0) == [2, 2] && stopped.map(\.1) == [6, 6], "\(selector) \(name): \(stopped.map { ($0.0, $0.1) })")
        let checkpoint = try #require(stopped[0].2)
        let resumed = try group.run { rank in
            let t = try trainer(ThreadedRank(group: group, rank: rank))
            try t.restore(from: checkpoint, file: "rank 0's checkpoint")
            try t.run()
            return (t.model.weights(), t.history)
        }
        for rank in 0..<2 {
            #expect(resumed[rank].0 == uninterrupted[rank].0, "\(selector) \(name) rank \(rank): weights after the resume")
            for (a, b) in zip(resumed[rank].1, uninterrupted[rank].1) {
                #expect(abs(a.loss - b.loss) <= 1e-6 * abs(b.loss), "\(selector) \(name) rank \(rank) epoch \(a.epoch): loss \(a.loss) vs \(b.loss)")
            }
        }
    }
}
