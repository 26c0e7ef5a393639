import Autoencoders
import Compute
import Layers
import Testing
import TestSupport

/// The L1 sparse code's penalty in evaluation.
@Suite struct SparseCodeTests {
    /// Evaluation writes λ·Σ_j |z_j| of the evaluated batch's own codes (it once left the last training batch's
    /// penalties in place, so validation losses of L1 models were off).
    @Test(arguments: TestDevices.selectors)
    func evaluationPenaltyIsTheL1OfTheEvaluatedCodes(selector: String) throws {
        let inputs = 6, batch = 5, lambda = 0.3
        var config = ModelConfig(kind: .sparse, inputShape: [inputs])
        config.hidden = [8]
        config.latentDim = 4
        config.likelihood = .gaussian
        config.sparsity = .l1(lambda: lambda)
        let model = try Autoencoder(config: config, device: try TestDevices.device(selector), batchSize: batch, seed: 3)
        let device = model.device
        var rng = TestRandom(seed: 12)
        let training = try device.makeBuffer(rng.array(batch * inputs, -1, 1))
        let evaluated = try device.makeBuffer(rng.array(batch * inputs, 0, 3))
        model.trainStep(training.whole, context: StepContext(training: true), kl: .init(weight: 0))
        let codes = device.read(model.encode(evaluated.whole))
        let expected = (0..<batch).map { b in lambda * codes[b * 4..<(b + 1) * 4].map { Double(abs($0)) }.reduce(0, +) }
        #expect(expected.contains { $0 > 0 }, "the test needs firing codes")
        model.evaluateBatch(evaluated.whole, context: StepContext(training: false))
        let penalty = device.read(model.penaltyPerSample).map(Double.init)
        for b in 0..<batch { #expect(abs(penalty[b] - expected[b]) < 1e-5 * (1 + expected[b]), "sample \(b): \(penalty[b]) vs \(expected[b])") }
    }
}
