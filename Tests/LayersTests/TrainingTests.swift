import Compute
import Foundation
import Layers
import Testing
import TestSupport

/// A 4→16→16→1 tanh MLP trained with Adam on y = sin(x₀) + x₁·x₂ (full batch, mean squared error).
/// Returns the final loss.
func trainRegression(selector: String, steps: Int = 400) throws -> (initial: Double, final: Double) {
    let device = try TestDevices.device(selector)
    let batch = 128
    let model = Sequential(Linear(4, 16), Tanh(), Linear(16, 16), Tanh(), Linear(16, 1))
    var layout = ParameterLayout()
    model.declareParameters(in: &layout, prefix: "")
    let store = try ParameterStore(device: device, layout: layout)
    store.initialize(seed: 2024)
    try model.prepare(device: device, store: store, inputShape: [4], batch: batch)
    let adam = try Adam(store: store, hyper: AdamParameters(learningRate: 0.01))

    var rng = TestRandom(seed: 31)
    let x = rng.array(batch * 4)
    let t: [Float] = (0..<batch).map { (i: Int) -> Float in
        let product: Float = x[4 * i + 1] * x[4 * i + 2]
        return sin(x[4 * i]) + product
    }
    let input = try device.makeBuffer(x), target = try device.makeBuffer(t)
    let dy = try device.makeBuffer(count: batch, dtype: .float32)

    func loss(_ y: BufferSlice) -> Double {
        let prediction = device.read(y)
        var sum = 0.0
        for i in 0..<batch {
            let error = Double(prediction[i]) - Double(t[i])
            sum += error * error
        }
        return sum / Double(batch)
    }
    var initial = 0.0
    for step in 0..<steps {
        let context = StepContext(training: true, seed: 1, step: step)
        let y = model(input.whole, context: context)
        if step == 0 { initial = loss(y) }
        // dy = 2/B · (y − t)
        device.copy(y, to: dy.whole)
        device.axpby(alpha: -2 / Float(batch), target.whole, beta: 2 / Float(batch), dy.whole)
        store.zeroGradients()
        _ = model.backward(dy.whole, context: context, needInputGradient: false)
        adam.step(store: store)
    }
    let final = loss(model(input.whole, context: StepContext(training: false)))
    try device.checkHealth()
    return (initial, final)
}

@Suite struct TrainingTests {
    @Test(arguments: TestDevices.selectors)
    func mlpLearnsRegression(selector: String) throws {
        let (initial, final) = try trainRegression(selector: selector)
        #expect(initial > 0.2, "\(selector): initial loss \(initial)")
        #expect(final < 0.003, "\(selector): final loss \(final) after 400 Adam steps (about 6e-4 expected)")
        if selector != "cpu" {
            let cpu = try trainRegression(selector: "cpu")
            #expect(abs(final - cpu.final) <= 0.01 * cpu.final, "\(selector) final \(final) vs cpu \(cpu.final)")
        }
    }
}
