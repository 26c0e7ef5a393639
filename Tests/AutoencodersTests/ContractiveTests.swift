import Autoencoders
import Compute
import Foundation
import Layers
import Testing
import TestSupport

/// The contractive penalty λ‖∂h/∂x‖²_F against a Jacobian taken by central finite differences of the encoder.
@Suite struct ContractiveTests {
    static let inputs = 7, codes = 3, batch = 4

    /// ‖J‖²_F of the encoder at each sample of `x`, by central differences in Double around Float evaluations.
    static func finiteDifferenceJacobianNorms(_ model: Autoencoder, _ x: [Float]) throws -> [Double] {
        let device = model.device
        let buffer = try device.makeBuffer(x)
        var norms = [Double](repeating: 0, count: batch)
        let h: Float = 1e-2
        for i in 0..<inputs {
            var plus = x, minus = x
            for b in 0..<batch { plus[b * inputs + i] += h; minus[b * inputs + i] -= h }
            device.write(plus, to: buffer.whole)
            let up = device.read(model.encode(buffer.whole))
            device.write(minus, to: buffer.whole)
            let down = device.read(model.encode(buffer.whole))
            for b in 0..<batch {
                for j in 0..<codes {
                    let derivative = (Double(up[b * codes + j]) - Double(down[b * codes + j])) / Double(2 * h)
                    norms[b] += derivative * derivative
                }
            }
        }
        return norms
    }

    static func model(selector: String, hidden: [Int], weight: Double = 0.5) throws -> Autoencoder {
        var config = ModelConfig(kind: .contractive, inputShape: [inputs])
        config.hidden = hidden
        config.latentDim = codes
        config.likelihood = .gaussian
        config.contractiveWeight = weight
        config.contractiveNoise = 0.01
        return try Autoencoder(config: config, device: try TestDevices.device(selector), batchSize: batch, seed: 4)
    }

    @Test(arguments: TestDevices.selectors)
    func exactPenaltyMatchesTheFiniteDifferenceJacobian(selector: String) throws {
        let model = try Self.model(selector: selector, hidden: [])
        var rng = TestRandom(seed: 8)
        let x = rng.array(Self.batch * Self.inputs, -2, 2)
        let expected = try Self.finiteDifferenceJacobianNorms(model, x).map { 0.5 * $0 }
        let buffer = try model.device.makeBuffer(x)
        model.evaluateBatch(buffer.whole, context: StepContext(training: false))
        let penalty = model.device.read(model.penaltyPerSample)
        #expect(mismatch(penalty, expected, rtol: 2e-3, atol: 1e-6) == nil, "\(penalty) vs \(expected)")
    }

    /// A deeper encoder (7 → 5 → 3): E‖h(x + σε) − h(x)‖²/σ² = ‖J‖²_F + O(σ²), in training steps and in evaluation,
    /// whose draws are keyed by the evaluation's seed and batch (an evaluation once encoded [x; x] and so reported
    /// no penalty at all).
    @Test(arguments: TestDevices.selectors, [true, false])
    func stochasticEstimateAveragesToTheJacobianNorm(selector: String, training: Bool) throws {
        let model = try Self.model(selector: selector, hidden: [5])
        var rng = TestRandom(seed: training ? 9 : 11)
        let x = rng.array(Self.batch * Self.inputs, -1, 1)
        let expected = try Self.finiteDifferenceJacobianNorms(model, x).map { 0.5 * $0 }
        let buffer = try model.device.makeBuffer(x)
        func penalty(step: Int) -> [Float] {
            if training {
                model.store.zeroGradients()
                model.trainStep(buffer.whole, context: StepContext(training: true, seed: 1, step: step), kl: .init(weight: 0))
            } else {
                model.evaluateBatch(buffer.whole, context: StepContext(training: false, seed: 2, step: step))
            }
            return model.device.read(model.penaltyPerSample)
        }
        var mean = [Double](repeating: 0, count: Self.batch)
        let draws = 400
        for step in 0..<draws {
            for (b, value) in penalty(step: step).enumerated() { mean[b] += Double(value) / Double(draws) }
        }
        for b in 0..<Self.batch {
            #expect(abs(mean[b] - expected[b]) < 0.12 * expected[b] + 1e-4, "sample \(b): \(mean[b]) vs \(expected[b])")
        }
        if !training { #expect(penalty(step: 0) == penalty(step: 0), "an evaluation's draws are keyed by seed and batch") }
    }

    @Test(arguments: TestDevices.selectors)
    func exactPenaltyGradientMatchesFiniteDifferences(selector: String) throws {
        // L(θ) = mean over the batch of (squared error + λ‖J‖²); trainStep's gradient vs central differences of L,
        // with λ large enough that the penalty's gradient dominates
        let model = try Self.model(selector: selector, hidden: [], weight: 50)
        let device = model.device
        var rng = TestRandom(seed: 10)
        let x = try device.makeBuffer(rng.array(Self.batch * Self.inputs, -1, 1))
        func loss() -> Double {
            model.evaluateBatch(x.whole, context: StepContext(training: false))
            let rec = device.read(model.reconstructionPerSample), pen = device.read(model.penaltyPerSample)
            return zip(rec, pen).map { Double($0) + Double($1) }.reduce(0, +) / Double(Self.batch)
        }
        model.store.zeroGradients()
        model.trainStep(x.whole, context: StepContext(training: true), kl: .init(weight: 0))
        let analytic = device.read(model.store.gradients)
        let values = device.read(model.store.values)
        let h: Float = 1e-2
        for index in stride(from: 0, to: values.count, by: 3) {
            var plus = values, minus = values
            plus[index] += h
            minus[index] -= h
            device.write(plus, to: model.store.values)
            let up = loss()
            device.write(minus, to: model.store.values)
            let down = loss()
            let numeric = (up - down) / Double(2 * h)
            #expect(abs(Double(analytic[index]) - numeric) < 0.03 * abs(numeric) + 2e-3,
                    "parameter \(index): \(analytic[index]) vs \(numeric)")
        }
        device.write(values, to: model.store.values)
    }
}
