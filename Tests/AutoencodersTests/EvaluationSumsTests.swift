@testable import Autoencoders
import Compute
import Testing
import TestSupport

/// An evaluation pass that keeps only the sums of its loss terms (the trainer's validation and explained-variance
/// passes, whose memory must not grow with the rows) gives the same means as one that keeps every sample's terms.
@Suite struct EvaluationSumsTests {
    @Test(arguments: [ModelKind.vae, .sparse])
    func sumsWithoutPerSampleTermsEqualThoseWithThem(kind: ModelKind) throws {
        var config = ModelConfig(kind: kind, inputShape: [1, 8, 8])
        config.hidden = [24]
        config.latentDim = 6
        let data = try BundledData.digits(split: .test)
        let model = try Autoencoder(config: config, device: try TestDevices.device("cpu"), batchSize: 40, seed: 2)
        let rows = try DeviceDataset(device: model.device, data: data, batchSize: 40)
        let kept = try Evaluation.run(model: model, data: rows, seed: 5)
        let summed = try Evaluation.run(model: model, data: rows, seed: 5, perSample: false)
        #expect(kept.reconstructionPerSample.count == data.count)
        #expect(kept.reconstructionSum == kept.reconstructionPerSample.reduce(0, +))
        #expect(summed.reconstructionPerSample.isEmpty && summed.klPerSample == nil)
        #expect(summed.loss == kept.loss && summed.reconstruction == kept.reconstruction && summed.kl == kept.kl
                && summed.penalty == kept.penalty && summed.reconstructionSum == kept.reconstructionSum, "\(kind)")
        #expect((kept.kl != nil) == (kind == .vae) && (kept.klPerSample?.count ?? data.count) == data.count)
    }
}
