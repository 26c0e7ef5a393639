import Compute
import Foundation
import Testing
import TestSupport

/// PyTorch's `torch.optim.Adam` / `AdamW` single-tensor algorithm in double precision, over several steps.
func referenceAdam(parameters: [Float], gradients: [[Float]], hyper: AdamParameters, scale: Double = 1)
    -> (parameters: [Double], m: [Double], v: [Double]) {
    let lr = Double(hyper.learningRate), b1 = Double(hyper.beta1), b2 = Double(hyper.beta2)
    let eps = Double(hyper.epsilon), wd = Double(hyper.weightDecay)
    var p = doubles(parameters)
    var m = [Double](repeating: 0, count: p.count), v = m
    for (index, grad) in gradients.enumerated() {
        let t = Double(index + 1)
        for i in p.indices {
            var g = Double(grad[i]) * scale
            if hyper.decoupled { p[i] *= 1 - lr * wd } else { g += wd * p[i] }
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            let denom = (v[i].squareRoot() / (1 - pow(b2, t)).squareRoot()) + eps
            p[i] -= lr / (1 - pow(b1, t)) * m[i] / denom
        }
    }
    return (p, m, v)
}

/// PyTorch's `torch.optim.SGD` (dampening 0, no Nesterov; the buffer is g on the first step).
func referenceSGD(parameters: [Float], gradients: [[Float]], learningRate: Double, momentum: Double,
                  weightDecay: Double, scale: Double = 1) -> (parameters: [Double], velocity: [Double]) {
    var p = doubles(parameters)
    var buf = [Double](repeating: 0, count: p.count)
    for (index, grad) in gradients.enumerated() {
        for i in p.indices {
            var d = Double(grad[i]) * scale + weightDecay * p[i]
            if momentum != 0 {
                buf[i] = index == 0 ? d : momentum * buf[i] + d
                d = buf[i]
            }
            p[i] -= learningRate * d
        }
    }
    return (p, buf)
}

@Suite struct OptimizerTests {
    @Test(arguments: TestDevices.selectors, [(Float(0), false), (0.1, false), (0.1, true)])
    func adamMatchesPyTorch(selector: String, decay: (Float, Bool)) throws {
        let device = try TestDevices.device(selector)
        var rng = TestRandom(seed: 11)
        let count = 1_003, offset = 5
        let hyper = AdamParameters(learningRate: 0.05, beta1: 0.8, beta2: 0.95, epsilon: 1e-6,
                                   weightDecay: decay.0, decoupled: decay.1)
        let initial = rng.array(count)
        let gradients = (0..<4).map { _ in rng.array(count, -2, 2) }
        // Parameters and moments live at offsets inside larger buffers, as in a flat parameter buffer.
        let store = try device.makeBuffer([Float](repeating: 7, count: offset) + initial + [7])
        let grads = try device.makeBuffer(count: count + 2, dtype: .float32)
        let moments = try device.makeBuffer(count: 2 * count + 1, dtype: .float32)
        let p = store.slice(offset, count), g = grads.slice(2, count)
        let m = moments.slice(1, count), v = moments.slice(1 + count, count)
        for (index, grad) in gradients.enumerated() {
            device.write(grad, to: g)
            device.adamUpdate(parameters: p, gradients: g, m: m, v: v, step: index + 1, hyper: hyper, gradientScale: nil)
        }
        let expected = referenceAdam(parameters: initial, gradients: gradients, hyper: hyper)
        #expect(mismatch(device.read(p), expected.parameters, rtol: 1e-5, atol: 1e-6) == nil, "\(selector) θ")
        #expect(mismatch(device.read(m), expected.m, rtol: 1e-5, atol: 1e-6) == nil, "\(selector) m")
        #expect(mismatch(device.read(v), expected.v, rtol: 1e-5, atol: 1e-6) == nil, "\(selector) v")
        let untouched = device.read(store.whole)
        #expect(untouched[..<offset].allSatisfy { $0 == 7 } && untouched.last == 7)
        // the update consumed the gradients, and only them
        device.write([Float](repeating: 9, count: 2), to: grads.slice(0, 2))
        device.adamUpdate(parameters: p, gradients: g, m: m, v: v, step: 5, hyper: hyper, gradientScale: nil)
        #expect(device.read(grads.whole) == [9, 9] + [Float](repeating: 0, count: count), "\(selector) ∇ cleared")
    }

    @Test(arguments: TestDevices.selectors, [(Float(0), Float(0), true), (0.9, 0, true), (0.9, 0.05, true),
                                             (0, 0.05, false), (0.5, 0.05, false)])
    func sgdMatchesPyTorch(selector: String, setting: (momentum: Float, weightDecay: Float, hasVelocity: Bool)) throws {
        let device = try TestDevices.device(selector)
        var rng = TestRandom(seed: 12)
        let count = 517
        let initial = rng.array(count)
        let gradients = (0..<4).map { _ in rng.array(count) }
        let p = try device.makeBuffer(initial), g = try device.makeBuffer(count: count, dtype: .float32)
        let velocity = try device.makeBuffer(count: count, dtype: .float32)
        for grad in gradients {
            device.write(grad, to: g.whole)
            device.sgdUpdate(parameters: p.whole, gradients: g.whole, velocity: setting.hasVelocity ? velocity.whole : nil,
                             learningRate: 0.1, momentum: setting.momentum, weightDecay: setting.weightDecay,
                             gradientScale: nil)
        }
        // Without a velocity buffer there is no momentum.
        let momentum = setting.hasVelocity ? Double(setting.momentum) : 0
        let expected = referenceSGD(parameters: initial, gradients: gradients, learningRate: Double(Float(0.1)),
                                    momentum: momentum, weightDecay: Double(setting.weightDecay))
        #expect(mismatch(device.read(p.whole), expected.parameters, rtol: 1e-5, atol: 1e-6) == nil, "\(selector) \(setting)")
        #expect(device.read(g.whole).allSatisfy { $0 == 0 }, "\(selector) \(setting): ∇ cleared")
        if momentum != 0 {
            #expect(mismatch(device.read(velocity.whole), expected.velocity, rtol: 1e-5, atol: 1e-6) == nil)
        } else {
            #expect(device.read(velocity.whole).allSatisfy { $0 == 0 }, "velocity untouched without momentum")
        }
    }

    @Test(arguments: TestDevices.selectors)
    func clipScaleFollowsClipGradNorm(selector: String) throws {
        let device = try TestDevices.device(selector)
        let squared = try device.makeBuffer([100, 0.25, 0, .nan] as [Float])
        let scales = try device.makeBuffer([Float](repeating: -1, count: 5))
        for i in 0..<4 { device.clipScale(squaredNorm: squared.slice(i, 1), maxNorm: 2, into: scales.slice(i + 1, 1)) }
        let result = device.read(scales.whole)
        #expect(result[0] == -1)
        #expect(abs(Double(result[1]) - 2 / (10 + 1e-6)) <= 1e-7)
        #expect(result[2] == 1 && result[3] == 1)
        #expect(result[4].isNaN)
    }

    /// A clipped Adam step: the squared gradient norm goes through clipScale into a one-element view that
    /// the update reads, as a training step does without any read-back.
    @Test(arguments: TestDevices.selectors, [false, true])
    func gradientScaleMultipliesGradients(selector: String, useSGD: Bool) throws {
        let device = try TestDevices.device(selector)
        var rng = TestRandom(seed: 13)
        let count = 300
        let initial = rng.array(count), grad = rng.array(count, -3, 3)
        let squaredNorm = grad.reduce(0.0) { $0 + Double($1) * Double($1) }
        let maxNorm: Float = 1.5
        let p = try device.makeBuffer(initial), g = try device.makeBuffer(grad)
        let m = try device.makeBuffer(count: count, dtype: .float32), v = try device.makeBuffer(count: count, dtype: .float32)
        let scalars = try device.makeBuffer([Float(squaredNorm), 0])
        device.clipScale(squaredNorm: scalars.slice(0, 1), maxNorm: maxNorm, into: scalars.slice(1, 1))
        let scale = Double(maxNorm) / (squaredNorm.squareRoot() + 1e-6)
        #expect(scale < 0.5, "the test must clip")
        if useSGD {
            device.sgdUpdate(parameters: p.whole, gradients: g.whole, velocity: m.whole, learningRate: 0.1,
                             momentum: 0.9, weightDecay: 0.01, gradientScale: scalars.slice(1, 1))
            let expected = referenceSGD(parameters: initial, gradients: [grad], learningRate: Double(Float(0.1)),
                                        momentum: 0.9, weightDecay: Double(Float(0.01)), scale: scale)
            #expect(mismatch(device.read(p.whole), expected.parameters, rtol: 1e-5, atol: 1e-6) == nil)
        } else {
            // With weight decay the scale matters even at step 1, where Adam's update is otherwise scale-free.
            let hyper = AdamParameters(learningRate: 0.05, weightDecay: 0.5)
            device.adamUpdate(parameters: p.whole, gradients: g.whole, m: m.whole, v: v.whole, step: 1, hyper: hyper,
                              gradientScale: scalars.slice(1, 1))
            let expected = referenceAdam(parameters: initial, gradients: [grad], hyper: hyper, scale: scale)
            #expect(mismatch(device.read(p.whole), expected.parameters, rtol: 1e-5, atol: 1e-6) == nil)
            #expect(mismatch(device.read(m.whole), expected.m, rtol: 1e-5, atol: 1e-6) == nil)
        }
    }
}
