import Autoencoders
import Compute
import Foundation
import Layers
import Testing
import TestSupport

/// Every model kind and architecture trains briefly on the bundled digits on every device and must learn.
@Suite struct ModelTrainingTests {
    static let digits = try! BundledData.digits(split: .train)
    static let digitsTest = try! BundledData.digits(split: .test)

    /// Mean per-sample BCE of predicting the training mean image for every test digit: the bar to beat.
    static let meanImageBaseline: Double = {
        let d = digits.dimension, train = digits.features, test = digitsTest.features
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<digits.count { for j in 0..<d { mean[j] += Double(train[i * d + j]) / Double(digits.count) } }
        var total = 0.0
        for i in 0..<digitsTest.count {
            for j in 0..<d {
                let t = Double(test[i * d + j]), p = min(max(mean[j], 1e-7), 1 - 1e-7)
                total -= t * log(p) + (1 - t) * log(1 - p)
            }
        }
        return total / Double(digitsTest.count)
    }()

    static func config(_ kind: ModelKind, _ arch: Architecture) -> ModelConfig {
        var config = ModelConfig(kind: kind, architecture: arch, inputShape: [1, 8, 8])
        config.latentDim = 16
        if kind != .contractive { config.hidden = [128, 64] }
        // one stride-2 convolution suits 8×8 digits (two leave a 2×2 map and learn far more slowly)
        config.channels = [32]
        config.denseWidth = 128
        config.vq.codebookSize = 32
        config.vq.codeDim = 4
        config.sparsity = .topK(k: 4)
        config.contractiveWeight = 0.01
        if kind == .betaVAE { config.beta = 1.5 }
        if kind == .contractive { config.latentDim = 32 }
        return config
    }

    static func train(_ config: ModelConfig, selector: String, epochs: Int = 8) throws -> (Trainer, EvaluationResult) {
        let device = try TestDevices.device(selector)
        var training = TrainingConfig()
        training.epochs = epochs
        training.batchSize = 32
        training.learningRate = 2e-3
        training.validationFraction = 0
        training.seed = 3
        let model = try Autoencoder(config: config, device: device, batchSize: training.batchSize, seed: training.seed)
        let trainer = try Trainer(model: model, config: training, training: digits, validation: nil)
        try trainer.run()
        return (trainer, try Evaluation.run(model: model, data: digitsTest, seed: 1))
    }

    static let cases: [(ModelKind, Architecture)] = ModelKind.allCases.flatMap { kind in
        Architecture.allCases.compactMap { arch in kind == .contractive && arch == .conv ? nil : (kind, arch) }
    }

    @Test(arguments: TestDevices.selectors, cases)
    func learnsDigits(selector: String, model: (ModelKind, Architecture)) throws {
        let (trainer, test) = try Self.train(Self.config(model.0, model.1), selector: selector,
                                             epochs: model.0.isVariational || model.0 == .contractive ? 25 : 12)
        let first = try #require(trainer.history.first), last = try #require(trainer.history.last)
        #expect(last.loss < first.loss, "\(model) loss did not fall: \(first.loss) → \(last.loss)")
        // reconstructions clearly beat the mean image (27.1 nats per test digit); VAEs pay for their KL
        // (β-VAE trades reconstruction for a smaller KL on purpose)
        let margin = model.0 == .betaVAE ? 0.95 : model.0 == .vae ? 0.9 : 0.85
        #expect(test.reconstruction < margin * Self.meanImageBaseline,
                "\(model) on \(selector): test reconstruction \(test.reconstruction) vs mean image \(Self.meanImageBaseline)")
        switch model.0 {
        case .vqVAE:
            #expect((last.perplexity ?? 0) > 6, "codebook perplexity \(last.perplexity ?? 0)")
        case .sparse:
            #expect(abs((last.l0 ?? 0) - 4) < 1e-6, "top-k codes must have L0 = 4, got \(last.l0 ?? -1)")
        case .vae, .betaVAE:
            #expect((last.kl ?? 0) > (model.0 == .vae ? 1 : 0.5), "KL \(last.kl ?? 0)")
            #expect((last.activeUnits ?? 0) >= 2)
        default:
            break
        }
    }

    @Test(arguments: TestDevices.selectors)
    func capacityHoldsTheKLNearItsTarget(selector: String) throws {
        var config = Self.config(.betaVAE, .mlp)
        config.capacity = CapacitySchedule(maximum: 4, steps: 300, gamma: 10)
        let (trainer, _) = try Self.train(config, selector: selector, epochs: 12)
        let last = try #require(trainer.history.last)
        #expect(abs((last.kl ?? 0) - 4) < 1, "KL \(last.kl ?? 0) vs capacity 4 nats")
    }
}

/// Stored configs with absurd sizes are refused with a usage error, not a crash (found by the config fuzzer).
@Suite struct ModelConfigLimitTests {
    @Test func absurdSizesAreRefused() throws {
        var config = ModelConfig(kind: .vae, architecture: .conv, inputShape: [1, 8, 8])
        config.channels = [Int](repeating: 4, count: 64)
        #expect(throws: ConfigError.self) { try config.validate() }
        config = ModelConfig(kind: .ae, inputShape: [1 << 40, 1 << 40])
        #expect(throws: ConfigError.self) { try config.validate() }
        config = ModelConfig(kind: .ae, inputShape: [64])
        try config.validate()
    }
}
