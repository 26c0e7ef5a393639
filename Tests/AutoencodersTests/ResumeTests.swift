import Autoencoders
import Compute
import Foundation
import Layers
import Testing
import TestSupport

/// A run resumed from the checkpoint of epoch k ends with the same weights as the uninterrupted run: bit for bit on
/// the CPU backend, within float tolerance on OpenCL.
@Suite struct ResumeTests {
    /// A trainer of `kind` on the bundled digits; `sae` makes it a one-layer top-2 SAE of 256 latents whose AuxK counts
    /// a latent dead after 200 samples (over 3 batches, where a latent fires every 128 samples on average), so that
    /// its count per latent (checkpointed state) steers the training.
    static func trainer(_ kind: ModelKind, selector: String, epochs: Int, sae: Bool = false) throws -> Trainer {
        let digits = try BundledData.digits(split: .train)
        var config = ModelConfig(kind: kind, inputShape: [1, 8, 8])
        config.hidden = [32, 16]
        config.latentDim = 8
        config.vq.ema = true
        if sae {
            config.inputShape = [64]
            config.hidden = []
            config.latentDim = 256
            config.likelihood = .gaussian
            config.sparsity = .topK(k: 2)
            var options = SAEOptions()
            options.auxK?.deadAfter = 200
            config.sae = options
        }
        var training = TrainingConfig()
        training.epochs = epochs
        training.batchSize = 64
        training.validationFraction = 0
        training.seed = 21
        training.klSchedule = .linear(steps: 30)
        let model = try Autoencoder(config: config, device: try TestDevices.device(selector), batchSize: 64, seed: 21)
        let data = sae ? Dataset(name: "digits", shape: [64], features: digits.features) : digits
        return try Trainer(model: model, config: training, training: data, validation: nil)
    }

    @Test(arguments: TestDevices.selectors, [ModelKind.vae, .vqVAE, .denoising])
    func resumedRunMatchesTheUninterruptedOne(selector: String, kind: ModelKind) throws {
        let full = try Self.trainer(kind, selector: selector, epochs: 4)
        try full.run()

        let first = try Self.trainer(kind, selector: selector, epochs: 2)
        try first.run()
        let folder = try TemporaryDirectory()
        let file = folder.file("epoch-2.safetensors")
        try SafeTensorsFormat.write(try first.checkpoint(), to: file)

        let resumed = try Self.trainer(kind, selector: selector, epochs: 4)
        try resumed.restore(from: SafeTensorsFormat.read(file), file: file.path)
        #expect(resumed.epoch == 2 && resumed.step == first.step)
        try resumed.run()

        let expected = full.model.weights(), actual = resumed.model.weights()
        #expect(Set(expected.keys) == Set(actual.keys))
        #expect(resumed.history.count == 4)
        for (name, tensor) in expected {
            guard case .float32(let want) = tensor.elements, case .float32(let got)? = actual[name]?.elements else { continue }
            if selector == "cpu" {
                #expect(want == got, "\(name) differs after resuming")
            } else {
                #expect(mismatch(got, want.map(Double.init), rtol: 1e-4, atol: 1e-5) == nil, "\(name) on \(selector)")
            }
        }
    }

    /// A stop request within an epoch (Ctrl-C) leaves a checkpoint from which the epoch finishes as if never
    /// stopped: same weights, same epoch metrics (on the CPU backend, bit for bit).
    @Test(arguments: [(ModelKind.vae, false), (.vqVAE, false), (.sparse, false), (.sparse, true)])
    func aRunStoppedWithinAnEpochContinuesExactly(kind: ModelKind, sae: Bool) throws {
        let full = try Self.trainer(kind, selector: "cpu", epochs: 3, sae: sae)
        try full.run()

        let stopped = try Self.trainer(kind, selector: "cpu", epochs: 3, sae: sae)
        var steps = 0
        try stopped.run(shouldStop: {
            steps += 1
            return steps == 30   // 23 steps per epoch: 7 steps into the second epoch
        })
        #expect(stopped.interruptedEpoch == 2 && stopped.epoch == 1 && stopped.step == 30)
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let file = folder.file("epoch-0002-partial.safetensors")
        try SafeTensorsFormat.write(try stopped.checkpoint(), to: file)

        let resumed = try Self.trainer(kind, selector: "cpu", epochs: 3, sae: sae)
        try resumed.restore(from: SafeTensorsFormat.read(file), file: file.path)
        #expect(resumed.interruptedEpoch == 2 && resumed.step == 30)
        try resumed.run()
        #expect(resumed.interruptedEpoch == nil && resumed.history.count == 3)
        for (name, tensor) in full.model.weights() {
            #expect(tensor == resumed.model.weights()[name], "\(name) differs after continuing the epoch")
        }
        for (want, got) in zip(full.history, resumed.history) {
            #expect(want.loss == got.loss && want.reconstruction == got.reconstruction && want.kl == got.kl
                    && want.perplexity == got.perplexity && want.l0 == got.l0 && want.klPerDimension == got.klPerDimension,
                    "epoch \(want.epoch)")
        }
        // the same trainer continues too, without a checkpoint in between
        try stopped.run()
        #expect(stopped.model.weights() == full.model.weights())
    }
}
