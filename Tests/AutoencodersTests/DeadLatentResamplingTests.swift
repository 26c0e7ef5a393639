@testable import Autoencoders
import Compute
import Layers
import Testing
import TestSupport

/// Dead-latent resampling of a top-k SAE (``SparseDictionary``): latents silenced for an epoch are re-initialized
/// with fresh optimizer state and fire again in the next one.
@Suite struct DeadLatentResamplingTests {
    @Test(arguments: TestDevices.selectors)
    func resampledLatentsFireAgainWithZeroedAdamMoments(selector: String) throws {
        let device = try TestDevices.device(selector)
        var (config, training) = AnalysisTests.plantedSAE(latentDim: 64, epochs: 3)
        // resampling alone: the auxiliary loss, which also revives dead latents, is off
        config.sae?.resampleDeadLatents = true
        config.sae?.auxK = nil
        let model = try Autoencoder(config: config, device: device, batchSize: 64, seed: 3)
        let trainer = try Trainer(model: model, config: training, training: AnalysisTests.plantedActivations(count: 1024),
                                  validation: nil)
        let bias = try model.store.value(named: "encoder.0.bias")
        let rows = try model.store.entry("encoder.0.weight").offset
        let adam = try #require(trainer.optimizer as? Adam)
        var silenced: [Int] = []
        func encoderRowMoments() -> [Float] {
            let m = device.read(adam.m), v = device.read(adam.v)
            var moments: [Float] = []
            for j in silenced {
                for i in rows + j * 16..<rows + (j + 1) * 16 { moments += [m[i], v[i]] }
            }
            return moments
        }
        try trainer.run(epochEnd: { metrics, _ in
            switch metrics.epoch {
            case 1:
                // the 8 latents that fired most in epoch 1 (so their moments are not zero) are kept out of every
                // top k in epoch 2 by a bias far below any other pre-activation
                let activity = device.read(try #require(model.latent as? SparseCode).unitActivity.whole)
                silenced = Array(activity.indices.sorted { activity[$0] > activity[$1] }.prefix(8))
                #expect(encoderRowMoments().contains { $0 != 0 })
                var b = device.read(bias)
                for j in silenced { b[j] = -1e4 }
                device.write(b, to: bias)
            case 2:
                #expect((metrics.deadUnits ?? 0) >= silenced.count)
                #expect(metrics.resampledUnits == metrics.deadUnits)
                let b = device.read(bias)
                #expect(silenced.allSatisfy { b[$0] == 0 }, "biases \(silenced.map { b[$0] })")
                #expect(encoderRowMoments().allSatisfy { $0 == 0 }, "Adam moments of the resampled encoder rows were kept")
            default:
                break
            }
        })
        // epoch 3 trained the resampled latents: each of them fired in it
        let activity = device.read(try #require(model.latent as? SparseCode).unitActivity.whole)
        #expect(silenced.count == 8)
        for j in silenced { #expect(activity[j] > 0, "resampled latent \(j) never fired after resampling") }
        // no resampling after the last epoch: the model ends as trained
        #expect(trainer.history.last?.resampledUnits == 0)
    }
}
