import Autoencoders
import Compute
import Foundation
import Layers
import Testing
import TestSupport

/// A run resumed from the checkpoint of epoch k ends with the same weights as the uninterrupted run: bit for bit on
/// the CPU backend, within float tolerance on OpenCL.
@Suite struct ResumeTests {
    static func trainer(_ kind: ModelKind, selector: String, epochs: Int) throws -> Trainer {
        let digits = try BundledData.digits(split: .train)
        var config = ModelConfig(kind: kind, inputShape: [1, 8, 8])
        config.hidden = [32, 16]
        config.latentDim = 8
        config.vq.ema = true
        var training = TrainingConfig()
        training.epochs = epochs
        training.batchSize = 64
        training.validationFraction = 0
        training.seed = 21
        training.klSchedule = .linear(steps: 30)
        let model = try Autoencoder(config: config, device: try TestDevices.device(selector), batchSize: 64, seed: 21)
        return try Trainer(model: model, config: training, training: digits, validation: nil)
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
}
