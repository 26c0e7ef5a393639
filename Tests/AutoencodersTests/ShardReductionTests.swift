@testable import Autoencoders
import Compute
import Foundation
import Layers
import Testing
import TestSupport

/// Shards that run together, each on its own thread and device, summing their batch-wide values through a
/// barrier: what data-parallel ranks do over MPI, in one process.
final class ThreadedShards: ShardReduction, @unchecked Sendable {
    let parties: Int
    private let condition = NSCondition()
    private var arrived = 0, generation = 0
    private var total: [Double] = [], result: [Double] = []
    /// Reductions completed.
    private(set) var calls = 0

    init(parties: Int) { self.parties = parties }

    func sumOverShards(_ values: inout [Double]) {
        condition.lock()
        defer { condition.unlock() }
        precondition(arrived == 0 || total.count == values.count, "shards reduce different counts")
        if arrived == 0 { total = values } else { for i in values.indices { total[i] += values[i] } }
        arrived += 1
        let mine = generation
        if arrived == parties {
            result = total
            arrived = 0
            generation += 1
            calls += 1
            condition.broadcast()
        } else {
            while generation == mine { condition.wait() }
        }
        values = result
    }

    /// Runs `body(shard)` for every shard at once, one thread each, and returns their results in shard order.
    func run<T>(_ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
        let results = Results<T>(count: parties)
        let group = DispatchGroup()
        for shard in 0..<parties {
            group.enter()
            let thread = Thread {
                results.set(shard, Result { try body(shard) })
                group.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        return try results.values.map { try $0!.get() }
    }

    private final class Results<T>: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var values: [Result<T, any Error>?]
        init(count: Int) { values = Array(repeating: nil, count: count) }
        func set(_ index: Int, _ value: Result<T, any Error>) {
            lock.lock()
            values[index] = value
            lock.unlock()
        }
    }
}

/// The batch-wide values of a step — batch-norm statistics, a VQ codebook's EMA counts and sums, the batch-mean
/// KL of free bits and of capacity training — summed over the shards through their ``ShardReduction``: N shards
/// running together take the step one process takes on the global batch.
@Suite struct ShardReductionTests {
    static let batch = 8

    static let configs: [(String, ModelConfig)] = {
        return [
            ("ae, batch norm in encoder and decoder", BatchShardTests.config(.ae) { $0.batchNorm = .both }),
            // one latent dimension, so that the per-sample KL is the dimension's; λ and C are set between the
            // global batch's mean KL and the first shard's (``calibrated(_:x:)``)
            ("vae, free bits", BatchShardTests.config(.vae) { $0.latentDim = 1; $0.freeBits = 1 }),
            ("beta-vae, capacity", BatchShardTests.config(.betaVAE) { $0.latentDim = 1; $0.capacity = CapacitySchedule(maximum: 1, steps: 0, gamma: 10) }),
            ("vq-vae, EMA", BatchShardTests.config(.vqVAE) { $0.vq.codeDim = 2; $0.vq.codebookSize = 6; $0.vq.ema = true }),
            ("conv vae, batch norm", BatchShardTests.convConfig { $0.batchNorm = .encoder }),
        ]
    }()

    /// After one training step: the gradient, the state tensors (running statistics, EMA tables), the codebook
    /// or other parameters moved by the step itself, and the epoch's objective sum.
    struct StepResult {
        var gradient: [Float], states: [Float], values: [Float], objective: Double, kl: [Float]
    }

    /// `config` with free bits λ or capacity C halfway between the global batch's mean KL and the first shard's,
    /// so that the floor (or the sign of KL − C) differs between a shard's own batch and the global one.
    static func calibrated(_ config: ModelConfig, x: [Float], selector: String, shardRows: Int) throws -> ModelConfig {
        guard config.freeBits != nil || config.capacity != nil else { return config }
        let kl = try step(config, selector: selector, x: x, rows: 0..<batch, shard: nil).kl.map(Double.init)
        let threshold = (kl.reduce(0, +) / Double(batch) + kl[..<shardRows].reduce(0, +) / Double(shardRows)) / 2
        var calibrated = config
        if calibrated.freeBits != nil { calibrated.freeBits = threshold }
        calibrated.capacity?.maximum = threshold
        return calibrated
    }

    static func step(_ config: ModelConfig, selector: String, x: [Float], rows: Range<Int>,
                     shard: BatchShard?) throws -> StepResult {
        let device = try Devices.open(DeviceSelection(parsing: selector))
        let model = try Autoencoder(config: config, device: device, batchSize: rows.count, seed: 5)
        let n = config.inputDimension
        let input = try device.makeBuffer(Array(x[(rows.lowerBound * n)..<(rows.upperBound * n)]))
        model.store.zeroGradients()
        model.resetEpochSums()
        var kl = Autoencoder.KLTerm(weight: config.beta)
        if let capacity = config.capacity { kl.capacity = (capacity.capacity(step: 2), capacity.gamma) }
        model.trainStep(input.whole, context: StepContext(training: true, seed: 3, step: 2, shard: shard), kl: kl)
        return StepResult(gradient: device.read(model.store.gradients), states: device.read(model.store.states),
                          values: device.read(model.store.values), objective: model.readEpochSums().objective,
                          kl: device.read(model.klPerSample))
    }

    @Test(arguments: TestDevices.selectors)
    func shardsTogetherTakeTheGlobalBatchStep(selector: String) throws {
        let ranks = 2, rows = Self.batch / ranks
        for (name, setting) in Self.configs {
            var rng = TestRandom(seed: 21)
            let x = rng.array(Self.batch * setting.inputDimension, 0, 1)
            let config = try Self.calibrated(setting, x: x, selector: selector, shardRows: rows)
            let whole = try Self.step(config, selector: selector, x: x, rows: 0..<Self.batch, shard: nil)
            let group = ThreadedShards(parties: ranks)
            let parts = try group.run { rank in
                let range = (rank * rows)..<((rank + 1) * rows)
                return try Self.step(config, selector: selector, x: x, rows: range,
                                     shard: BatchShard(firstRow: range.lowerBound, globalRows: Self.batch, reduction: group))
            }
            #expect(group.calls > 0, "\(name): the step reduced nothing")
            var gradient = [Double](repeating: 0, count: whole.gradient.count)
            for part in parts { for (i, g) in part.gradient.enumerated() { gradient[i] += Double(g) } }
            #expect(mismatch(whole.gradient, gradient, rtol: 1e-3, atol: 1e-5) == nil, "\(selector) \(name): gradients")
            let objective = parts.map(\.objective).reduce(0, +)
            #expect(abs(objective - whole.objective) <= 1e-4 * max(1, abs(whole.objective)),
                    "\(selector) \(name): objective \(objective) vs \(whole.objective)")
            for (rank, part) in parts.enumerated() {
                #expect(mismatch(part.states, doubles(whole.states), rtol: 1e-4, atol: 1e-6) == nil,
                        "\(selector) \(name) rank \(rank): state tensors")
                #expect(mismatch(part.values, doubles(whole.values), rtol: 1e-4, atol: 1e-6) == nil,
                        "\(selector) \(name) rank \(rank): parameters moved within the step")
            }
        }
    }
}
