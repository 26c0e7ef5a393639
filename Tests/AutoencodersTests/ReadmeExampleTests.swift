import Autoencoders
import Compute
import Foundation
import Testing

/// The README's library example with 2 epochs instead of 30, run in-process so its result is checked on every test
/// run (`ReadmeExamplePackageTests` in CLITests builds the README's block itself, unchanged, as a separate package).
@Suite struct ReadmeExampleTests {
    @Test func theLibraryExampleRuns() throws {
        // --- README example begins
        let device = try Devices.open(.cpu)
        let digits = try BundledData.digits(split: .train)            // 1,500 images of 8×8, values in [0, 1]
        var config = ModelConfig(kind: .vae, inputShape: digits.shape)
        config.hidden = [256, 128]
        config.latentDim = 16
        var training = TrainingConfig()
        training.epochs = 2
        training.batchSize = 32
        let model = try Autoencoder(config: config, device: device, batchSize: training.batchSize, seed: 0)
        let trainer = try Trainer(model: model, config: training, training: digits, validation: nil)
        try trainer.run(events: { event in
            if case .epoch(let m) = event { print("epoch \(m.epoch): loss \(m.loss), KL \(m.kl ?? 0)") }
        })
        let test = try Evaluation.run(model: model, data: try BundledData.digits(split: .test), seed: 0)
        print("test reconstruction \(test.reconstruction) nats, KL \(test.kl ?? 0)")
        try model.save(to: .temporaryDirectory.appendingPathComponent("vae.safetensors"))
        // --- README example ends
        #expect(trainer.history.count == 2)
        #expect(test.reconstruction.isFinite)
    }
}
