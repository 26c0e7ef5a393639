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

        let table = try BundledData.breastCancer()                     // 569 rows of 30 features, label 1 = malignant
        let normal = table.subset(Array(table.labels!.indices.filter { table.labels![$0] == 0 }.prefix(250)))
        let detector = try AnomalyDetector(fitting: normal, device: device)
        let scores = try detector.scores(Array(table.features.prefix(3 * 30)))   // any rows of 30 values, as they come
        print("scores \(scores); anomalous above \(detector.threshold)")
        let folder = URL.temporaryDirectory.appendingPathComponent("detector-\(UUID().uuidString)")
        try detector.save(to: folder)
        let reloaded = try AnomalyDetector(contentsOf: folder, device: device)
        // --- README example ends
        #expect(trainer.history.count == 2)
        #expect(test.reconstruction.isFinite)
        // the first three rows are malignant: all flagged, and read back with the same scores
        #expect(table.labels!.prefix(3).allSatisfy { $0 == 1 } && scores.allSatisfy { $0 > detector.threshold }, "\(scores)")
        #expect(try reloaded.scores(Array(table.features.prefix(3 * 30))) == scores)
        try? FileManager.default.removeItem(at: folder)
    }
}
