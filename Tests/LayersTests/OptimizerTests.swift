import Compute
import Foundation
import Layers
import Testing
import TestSupport

/// f(θ) = ½‖θ − c‖² over one declared parameter; its gradient θ − c is formed on the device.
final class Quadratic {
    let device: any Device
    let store: ParameterStore
    let target: Buffer
    let c: [Float]

    init(device: any Device, count: Int = 37) throws {
        self.device = device
        var layout = ParameterLayout()
        _ = layout.parameter("theta", shape: [count], initializer: .uniform(low: -2, high: 2))
        store = try ParameterStore(device: device, layout: layout)
        store.initialize(seed: 8)
        var rng = TestRandom(seed: 12)
        c = rng.array(count)
        target = try device.makeBuffer(c)
    }

    /// gradient = θ − c.
    func computeGradient() {
        device.copy(store.values, to: store.gradients)
        device.axpby(alpha: -1, target.whole, beta: 1, store.gradients)
    }

    var distance: Double {
        zip(device.read(store.values), c).reduce(0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
    }
}

@Suite struct OptimizerTests {
    @Test(arguments: TestDevices.selectors)
    func adamMatchesReferenceAndConverges(selector: String) throws {
        for decoupled in [false, true] {
            let q = try Quadratic(device: TestDevices.device(selector))
            let hyper = AdamParameters(learningRate: 0.05, weightDecay: 0.01, decoupled: decoupled)
            let adam: Adam = decoupled ? try AdamW(store: q.store, learningRate: 0.05, weightDecay: 0.01) : try Adam(store: q.store, hyper: hyper)
            var theta = doubles(q.device.read(q.store.values))
            var m = [Double](repeating: 0, count: theta.count), v = m
            for t in 1...3 {
                q.computeGradient()
                adam.step(store: q.store)
                for i in theta.indices {
                    var g = theta[i] - Double(q.c[i])
                    if decoupled { theta[i] -= 0.05 * 0.01 * theta[i] } else { g += 0.01 * theta[i] }
                    m[i] = 0.9 * m[i] + 0.1 * g
                    v[i] = 0.999 * v[i] + 0.001 * g * g
                    let mh = m[i] / (1 - pow(0.9, Double(t))), vh = v[i] / (1 - pow(0.999, Double(t)))
                    theta[i] -= 0.05 * mh / (vh.squareRoot() + 1e-8)
                }
            }
            #expect(adam.stepCount == 3)
            #expect(mismatch(q.device.read(q.store.values), theta, rtol: 1e-4, atol: 1e-5) == nil, "\(selector) decoupled=\(decoupled)")
            #expect(mismatch(q.device.read(adam.m), m, rtol: 1e-4, atol: 1e-6) == nil)
            for _ in 0..<400 {
                q.computeGradient()
                adam.step(store: q.store)
            }
            #expect(q.distance < 0.05, "\(selector): Adam ends \(q.distance) from the minimum")
        }
    }

    @Test(arguments: TestDevices.selectors)
    func sgdWithMomentumConverges(selector: String) throws {
        let q = try Quadratic(device: TestDevices.device(selector))
        let sgd = try SGD(store: q.store, learningRate: 0.1, momentum: 0.9)
        var theta = doubles(q.device.read(q.store.values)), buffer = [Double](repeating: 0, count: theta.count)
        for _ in 0..<2 {
            q.computeGradient()
            sgd.step(store: q.store)
            for i in theta.indices {
                buffer[i] = 0.9 * buffer[i] + (theta[i] - Double(q.c[i]))
                theta[i] -= 0.1 * buffer[i]
            }
        }
        #expect(mismatch(q.device.read(q.store.values), theta, rtol: 1e-5, atol: 1e-6) == nil)
        for _ in 0..<200 {
            q.computeGradient()
            sgd.step(store: q.store)
        }
        #expect(q.distance < 1e-3, "\(selector): SGD ends \(q.distance) from the minimum")
    }

    @Test(arguments: TestDevices.selectors)
    func clippingScalesTheGradientOnTheDevice(selector: String) throws {
        let q = try Quadratic(device: TestDevices.device(selector))
        let sgd = try SGD(store: q.store, learningRate: 0.5, maxGradientNorm: 0.25)
        let theta = doubles(q.device.read(q.store.values))
        q.computeGradient()
        let g = theta.indices.map { theta[$0] - Double(q.c[$0]) }
        let norm = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(norm > 0.25)
        sgd.step(store: q.store)
        let expected = theta.indices.map { theta[$0] - 0.5 * g[$0] * 0.25 / (norm + 1e-6) }
        #expect(mismatch(q.device.read(q.store.values), expected, rtol: 1e-4, atol: 1e-6) == nil)
        #expect(mismatch(q.device.read(sgd.clipping!.squaredNorm), [norm * norm], rtol: 1e-4) == nil)
    }

    @Test func learningRateIsSettablePerStep() throws {
        let q = try Quadratic(device: TestDevices.device("cpu"))
        let optimizer: any Optimizer = try SGD(store: q.store, learningRate: 0.1)
        let before = q.device.read(q.store.values)
        optimizer.learningRate = 0
        q.computeGradient()
        optimizer.step(store: q.store)
        #expect(q.device.read(q.store.values) == before)
    }
}
