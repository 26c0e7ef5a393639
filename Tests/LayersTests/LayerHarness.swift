import Compute
import Layers
import Testing
import TestSupport

/// A layer declared, stored, initialized and prepared on one device, with host-side helpers to run it.
final class LayerHarness {
    let device: any Device
    let layer: any Layer
    let store: ParameterStore
    let inputShape: [Int]
    let batch: Int
    let input: Buffer
    let upstream: Buffer
    let outputCount: Int

    init(_ layer: any Layer, device: any Device, inputShape: [Int], batch: Int, seed: UInt64 = 11) throws {
        self.device = device
        self.layer = layer
        self.inputShape = inputShape
        self.batch = batch
        var layout = ParameterLayout()
        layer.declareParameters(in: &layout, prefix: "")
        store = try ParameterStore(device: device, layout: layout)
        store.initialize(seed: seed)
        try layer.prepare(device: device, store: store, inputShape: inputShape, batch: batch)
        input = try device.makeBuffer(count: batch * inputShape.reduce(1, *), dtype: .float32)
        outputCount = batch * (try layer.outputShape(for: inputShape)).reduce(1, *)
        upstream = try device.makeBuffer(count: outputCount, dtype: .float32)
    }

    /// Host copy of a named parameter or state tensor.
    func read(_ name: String) throws -> [Float] { device.read(try store.value(named: name)) }

    /// y = layer(x).
    func forward(_ x: [Float], context: StepContext = StepContext(training: true)) -> [Float] {
        device.write(x, to: input.whole)
        return device.read(layer.forward(input.whole, context: context))
    }

    /// L = Σ y·g in double.
    func loss(_ x: [Float], _ g: [Float], context: StepContext) -> Double {
        zip(forward(x, context: context), g).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// Forward, then backward of L = Σ y·g from zeroed gradients: y, dx and the flat parameter gradients.
    func gradients(_ x: [Float], _ g: [Float], context: StepContext = StepContext(training: true))
        -> (y: [Float], dx: [Float], dparameters: [Float]) {
        store.zeroGradients()
        let y = forward(x, context: context)
        device.write(g, to: upstream.whole)
        let dx = layer.backward(upstream.whole, context: context, needInputGradient: true)
        return (y, dx.map { device.read($0) } ?? [], device.read(store.gradients))
    }
}

/// Indices spread over 0..<count (at most `limit`), for finite-difference spot checks.
func sampleIndices(_ count: Int, limit: Int = 24) -> [Int] {
    guard count > limit else { return Array(0..<count) }
    return (0..<limit).map { $0 * count / limit + ($0 * 7) % max(count / limit, 1) }
}

/// Checks a layer's gradients of L = Σ y·g: on the CPU against central finite differences (Float, so
/// eps of a few 1e-3 and a few percent of tolerance), on other devices against the CPU backend's.
func checkGradients(selector: String, make: () -> any Layer, inputShape: [Int], batch: Int,
                    context: StepContext = StepContext(training: true), inputs: (inout TestRandom, Int) -> [Float] = { $0.array($1) },
                    eps: Float = 5e-3, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let device = try TestDevices.device(selector)
    let harness = try LayerHarness(make(), device: device, inputShape: inputShape, batch: batch)
    var rng = TestRandom(seed: 99)
    let x = inputs(&rng, harness.input.count)
    let g = rng.array(harness.outputCount)
    let (y, dx, dparameters) = harness.gradients(x, g, context: context)
    #expect(dx.count == x.count, "\(selector): input gradient missing", sourceLocation: sourceLocation)

    if device.info.kind != .cpu {
        let cpu = try LayerHarness(make(), device: TestDevices.device("cpu"), inputShape: inputShape, batch: batch)
        let expected = cpu.gradients(x, g, context: context)
        let scale = expected.dparameters.map { abs(Double($0)) }.max() ?? 1
        #expect(mismatch(y, doubles(expected.y), rtol: 1e-3, atol: 1e-4) == nil, "\(selector) y vs cpu", sourceLocation: sourceLocation)
        #expect(mismatch(dx, doubles(expected.dx), rtol: 1e-3, atol: 1e-4) == nil, "\(selector) dx vs cpu", sourceLocation: sourceLocation)
        #expect(mismatch(dparameters, doubles(expected.dparameters), rtol: 1e-3, atol: 1e-4 * max(scale, 1)) == nil,
                "\(selector) dθ vs cpu", sourceLocation: sourceLocation)
        return
    }

    func close(_ analytic: Float, _ numeric: Double, scale: Double) -> Bool {
        abs(Double(analytic) - numeric) <= 0.03 * max(abs(numeric), abs(Double(analytic))) + 0.01 * scale
    }
    // Input gradient.
    let dxScale = dx.map { abs(Double($0)) }.max() ?? 1
    for i in sampleIndices(x.count) {
        var plus = x, minus = x
        plus[i] += eps
        minus[i] -= eps
        let numeric = (harness.loss(plus, g, context: context) - harness.loss(minus, g, context: context)) / Double(2 * eps)
        #expect(close(dx[i], numeric, scale: dxScale), "dx[\(i)] = \(dx[i]), finite difference \(numeric)",
                sourceLocation: sourceLocation)
    }
    // Parameter gradients.
    guard !dparameters.isEmpty else { return }
    let theta = device.read(harness.store.values)
    let dScale = dparameters.map { abs(Double($0)) }.max() ?? 1
    for i in sampleIndices(theta.count) {
        var plus = theta, minus = theta
        plus[i] += eps
        minus[i] -= eps
        device.write(plus, to: harness.store.values)
        let lp = harness.loss(x, g, context: context)
        device.write(minus, to: harness.store.values)
        let lm = harness.loss(x, g, context: context)
        let numeric = (lp - lm) / Double(2 * eps)
        #expect(close(dparameters[i], numeric, scale: dScale), "dθ[\(i)] = \(dparameters[i]), finite difference \(numeric)",
                sourceLocation: sourceLocation)
    }
    device.write(theta, to: harness.store.values)
}
