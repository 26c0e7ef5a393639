@testable import Autoencoders
import Compute
import Layers
import Testing
import TestSupport

/// Data-parallel training's arithmetic without MPI: a step on rows r·B/N ..< (r+1)·B/N of a global batch of B,
/// with the shard in its context, draws its rows' part of the batch's noise and scales by 1/B, so the shards'
/// gradients sum to the whole batch's and their per-sample terms are its rows'.
@Suite struct BatchShardTests {
    static let batch = 8

    /// Every kind whose step is a sum over samples (batch statistics, EMA codebooks, free bits and the capacity
    /// objective reduce batch-wide values, so they are not in this list).
    /// A small MLP of `kind` on 12 features (hidden 10, code 4, no free bits), then `change`.
    static func config(_ kind: ModelKind, _ change: (inout ModelConfig) -> Void = { _ in }) -> ModelConfig {
        var config = ModelConfig(kind: kind, inputShape: [12])
        config.hidden = [10]
        config.latentDim = 4
        config.freeBits = nil
        change(&config)
        return config
    }

    /// A small conv VAE on 8×8 images (3 channels, dense 6, code 3, no free bits), then `change`.
    static func convConfig(_ change: (inout ModelConfig) -> Void = { _ in }) -> ModelConfig {
        var conv = ModelConfig(kind: .vae, architecture: .conv, inputShape: [1, 8, 8])
        conv.channels = [3]
        conv.denseWidth = 6
        conv.latentDim = 3
        conv.freeBits = nil
        change(&conv)
        return conv
    }

    static let configs: [(String, ModelConfig)] = {
        return [
            ("ae", Self.config(.ae)),
            ("denoising", Self.config(.denoising) { $0.corruption = .saltAndPepper(probability: 0.3) }),
            ("vae", Self.config(.vae)),
            ("beta-vae", Self.config(.betaVAE)),
            ("vq-vae", Self.config(.vqVAE) { $0.vq.codeDim = 2; $0.vq.codebookSize = 6 }),
            ("sparse l1", Self.config(.sparse) { $0.sparsity = .l1(lambda: 0.1) }),
            ("sparse top-k", Self.config(.sparse) { $0.sparsity = .topK(k: 2) }),
            ("contractive exact", Self.config(.contractive) { $0.hidden = [] }),
            ("contractive stochastic", Self.config(.contractive)),
            ("conv vae", convConfig()),
        ]
    }()

    /// The gradient and the per-sample [reconstruction; KL; penalty] of one training step on `rows` of `x`.
    static func step(_ config: ModelConfig, device: any Device, x: [Float], rows: Range<Int>,
                     shard: BatchShard?) throws -> (gradient: [Float], terms: [Float]) {
        let model = try Autoencoder(config: config, device: device, batchSize: rows.count, seed: 5)
        let n = config.inputDimension
        let input = try device.makeBuffer(Array(x[(rows.lowerBound * n)..<(rows.upperBound * n)]))
        model.store.zeroGradients()
        model.trainStep(input.whole, context: StepContext(training: true, seed: 3, step: 2, shard: shard),
                        kl: .init(weight: config.beta))
        return (device.read(model.store.gradients), device.read(model.termsPerSample.whole))
    }

    @Test(arguments: TestDevices.selectors, [2, 4])
    func shardGradientsSumToTheBatchGradient(selector: String, ranks: Int) throws {
        let device = try TestDevices.device(selector)
        for (name, config) in Self.configs {
            var rng = TestRandom(seed: 21)
            let x = rng.array(Self.batch * config.inputDimension, 0, 1)
            let whole = try Self.step(config, device: device, x: x, rows: 0..<Self.batch, shard: nil)
            var sum = [Double](repeating: 0, count: whole.gradient.count)
            let rows = Self.batch / ranks
            for rank in 0..<ranks {
                let range = (rank * rows)..<((rank + 1) * rows)
                let part = try Self.step(config, device: device, x: x, rows: range,
                                         shard: BatchShard(firstRow: range.lowerBound, globalRows: Self.batch))
                for (i, g) in part.gradient.enumerated() { sum[i] += Double(g) }
                for term in 0..<EpochSums.terms {
                    let expected = whole.terms[(term * Self.batch + range.lowerBound)..<(term * Self.batch + range.upperBound)]
                    let actual = Array(part.terms[(term * rows)..<((term + 1) * rows)])
                    #expect(mismatch(actual, doubles(Array(expected)), rtol: 1e-4, atol: 1e-5) == nil,
                            "\(selector) \(name) rank \(rank) of \(ranks), term \(term): \(actual) vs \(Array(expected))")
                }
            }
            #expect(mismatch(whole.gradient, sum, rtol: 1e-3, atol: 1e-5) == nil, "\(selector) \(name), \(ranks) ranks")
        }
    }

    /// A shard's draws are its rows of the batch's draws, bit for bit.
    @Test(arguments: TestDevices.selectors)
    func shardDrawsAreSlicesOfTheBatchDraws(selector: String) throws {
        let device = try TestDevices.device(selector)
        let width = 7, batch = 6
        let whole = try device.makeBuffer(count: batch * width, dtype: .float32)
        device.fillNormal(whole.whole, mean: 0, std: 1,
                          random: StepContext(training: true, seed: 9, step: 4).randomStream(purpose: 2, rowWidth: width))
        let all = device.read(whole.whole)
        for first in [1, 2, 3] {
            let part = try device.makeBuffer(count: 2 * width, dtype: .float32)
            let context = StepContext(training: true, seed: 9, step: 4, shard: BatchShard(firstRow: first, globalRows: batch))
            device.fillNormal(part.whole, mean: 0, std: 1, random: context.randomStream(purpose: 2, rowWidth: width))
            #expect(device.read(part.whole) == Array(all[(first * width)..<((first + 2) * width)]), "rows \(first)..<\(first + 2)")
        }
    }
}
