import Compute
import Foundation
import Layers
import Testing
import TestSupport

/// Inputs kept at least 0.05 away from 0, so finite differences never straddle a ReLU kink.
func awayFromZero(_ rng: inout TestRandom, _ count: Int) -> [Float] {
    rng.array(count, -2, 2).map { $0 >= 0 ? $0 + 0.05 : $0 - 0.05 }
}

@Suite struct ActivationLayerTests {
    static let cases: [(String, () -> any Layer, (Double) -> Double)] = [
        ("relu", { ReLU() }, { max($0, 0) }),
        ("leaky", { LeakyReLU(negativeSlope: 0.2) }, { $0 > 0 ? $0 : 0.2 * $0 }),
        ("sigmoid", { Sigmoid() }, { 1 / (1 + exp(-$0)) }),
        ("tanh", { Tanh() }, { tanh($0) }),
        ("softplus", { Softplus() }, { log1p(exp($0)) }),
    ]

    @Test(arguments: TestDevices.selectors)
    func forwardAndGradients(selector: String) throws {
        let device = try TestDevices.device(selector)
        for (name, make, reference) in Self.cases {
            let h = try LayerHarness(make(), device: device, inputShape: [3, 5], batch: 7)
            var rng = TestRandom(seed: 4)
            let x = awayFromZero(&rng, h.input.count)
            #expect(mismatch(h.forward(x), x.map { reference(Double($0)) }) == nil, "\(selector) \(name)")
            try checkGradients(selector: selector, make: make, inputShape: [3, 5], batch: 7, inputs: awayFromZero)
        }
    }
}

@Suite struct BatchNormTests {
    @Test(arguments: TestDevices.selectors)
    func trainingForwardAndRunningStatistics(selector: String) throws {
        let device = try TestDevices.device(selector)
        for (make, shape): (() -> any Layer, [Int]) in [({ BatchNorm1d(4) }, [4]), ({ BatchNorm1d(3) }, [3, 5]), ({ BatchNorm2d(3) }, [3, 4, 5])] {
            let h = try LayerHarness(make(), device: device, inputShape: shape, batch: 6)
            let c = shape[0], s = shape.reduce(1, *) / c
            var rng = TestRandom(seed: 21)
            let gamma = rng.array(c, 0.5, 1.5), beta = rng.array(c)
            device.write(gamma, to: try h.store.value(named: "weight"))
            device.write(beta, to: try h.store.value(named: "bias"))
            let x = rng.array(h.input.count, -1, 3)
            let expected = Reference.batchNorm(x, gamma: gamma, beta: beta, n: 6, c: c, s: s, eps: 1e-5)
            #expect(mismatch(h.forward(x), expected.y, rtol: 1e-3, atol: 1e-4) == nil, "\(selector) \(shape)")
            #expect(mismatch(try h.read("running_mean"), expected.mean.map { 0.1 * $0 }, rtol: 1e-3, atol: 1e-5) == nil)
            #expect(mismatch(try h.read("running_var"), expected.unbiased.map { 0.9 + 0.1 * $0 }, rtol: 1e-3, atol: 1e-5) == nil)
            #expect(try h.read("num_batches_tracked") == [1])
            #expect(h.store.entries.map(\.name) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
            #expect(h.store.entries.map(\.declaration.isInteger) == [false, false, false, false, true])
        }
    }

    @Test(arguments: TestDevices.selectors)
    func evaluationUsesRunningStatistics(selector: String) throws {
        let device = try TestDevices.device(selector)
        let h = try LayerHarness(BatchNorm2d(2), device: device, inputShape: [2, 3, 3], batch: 3)
        var rng = TestRandom(seed: 2)
        let mean = rng.array(2), variance = rng.array(2, 0.5, 2), gamma = rng.array(2, 0.5, 1.5), beta = rng.array(2)
        device.write(mean, to: try h.store.value(named: "running_mean"))
        device.write(variance, to: try h.store.value(named: "running_var"))
        device.write(gamma, to: try h.store.value(named: "weight"))
        device.write(beta, to: try h.store.value(named: "bias"))
        let x = rng.array(h.input.count)
        let expected = Reference.batchNorm(x, gamma: gamma, beta: beta, n: 3, c: 2, s: 9, eps: 1e-5,
                                           statistics: (doubles(mean), doubles(variance)))
        #expect(mismatch(h.forward(x, context: StepContext(training: false)), expected.y, rtol: 1e-4, atol: 1e-5) == nil)
        #expect(try h.read("running_mean") == mean && h.read("num_batches_tracked") == [0], "evaluation must not update state")
    }

    @Test(arguments: TestDevices.selectors)
    func gradients(selector: String) throws {
        try checkGradients(selector: selector, make: { BatchNorm1d(3) }, inputShape: [3], batch: 5)
        try checkGradients(selector: selector, make: { BatchNorm2d(2) }, inputShape: [2, 3, 2], batch: 3)
        // Evaluation mode: frozen statistics, so dx = γ·dy/√(running_var + ε).
        try checkGradients(selector: selector, make: { BatchNorm2d(2) }, inputShape: [2, 2, 3], batch: 2,
                           context: StepContext(training: false))
    }

    @Test func rejectsWrongRank() {
        #expect(throws: LayerError.self) { try BatchNorm2d(3).outputShape(for: [3, 4]) }
        #expect(throws: LayerError.self) { try BatchNorm1d(3).outputShape(for: [4]) }
    }
}

@Suite struct DropoutTests {
    @Test(arguments: TestDevices.selectors)
    func keepRateScalingAndEvaluationIdentity(selector: String) throws {
        let device = try TestDevices.device(selector)
        let h = try LayerHarness(Dropout(0.3), device: device, inputShape: [1000], batch: 20)
        var rng = TestRandom(seed: 1)
        let x = rng.array(h.input.count, 0.5, 1.5)
        let y = h.forward(x, context: StepContext(training: true, seed: 3, step: 7))
        var kept = 0
        for (a, b) in zip(x, y) where b != 0 {
            kept += 1
            #expect(abs(b - a / 0.7) <= 1e-5 * abs(b), "kept element scaled by 1/(1−p)")
        }
        let rate = Double(kept) / Double(x.count)
        #expect(abs(rate - 0.7) < 0.01, "keep rate \(rate)")
        // Same step → same mask; another step → another mask.
        #expect(h.forward(x, context: StepContext(training: true, seed: 3, step: 7)) == y)
        #expect(h.forward(x, context: StepContext(training: true, seed: 3, step: 8)) != y)
        #expect(h.forward(x, context: StepContext(training: false, seed: 3, step: 7)) == x)
        if device.info.kind != .cpu {
            let cpu = try LayerHarness(Dropout(0.3), device: TestDevices.device("cpu"), inputShape: [1000], batch: 20)
            let reference = cpu.forward(x, context: StepContext(training: true, seed: 3, step: 7))
            #expect(mismatch(y, doubles(reference), rtol: 1e-6, atol: 0) == nil, "same mask on every backend")
        }
    }

    @Test(arguments: TestDevices.selectors)
    func gradients(selector: String) throws {
        try checkGradients(selector: selector, make: { Dropout(0.4) }, inputShape: [30], batch: 4,
                           context: StepContext(training: true, seed: 5, step: 2))
        let h = try LayerHarness(Dropout(0.4), device: TestDevices.device(selector), inputShape: [8], batch: 2)
        var rng = TestRandom(seed: 6)
        let x = rng.array(16), g = rng.array(16)
        #expect(h.gradients(x, g, context: StepContext(training: false)).dx == g, "identity in evaluation")
    }

    @Test func rejectsBadProbability() {
        #expect(throws: LayerError.self) { try Dropout(1.5).outputShape(for: [3]) }
    }
}

@Suite struct ReshapeTests {
    @Test(arguments: TestDevices.selectors)
    func flattenAndReshapePassThrough(selector: String) throws {
        let device = try TestDevices.device(selector)
        #expect(try Flatten().outputShape(for: [2, 3, 4]) == [24])
        #expect(try Reshape([4, 2, 3]).outputShape(for: [24]) == [4, 2, 3])
        #expect(throws: LayerError.self) { try Reshape([5, 5]).outputShape(for: [24]) }
        for layer in [Flatten(), Reshape([3, 8])] as [any Layer] {
            let h = try LayerHarness(layer, device: device, inputShape: [2, 3, 4], batch: 2)
            var rng = TestRandom(seed: 3)
            let x = rng.array(48), g = rng.array(48)
            let result = h.gradients(x, g)
            #expect(result.y == x && result.dx == g)
        }
    }
}
