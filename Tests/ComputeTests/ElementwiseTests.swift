import Compute
import Foundation
import Testing
import TestSupport

/// Every activation, with its value and derivative in double precision.
let allActivations: [(Activation, value: (Double) -> Double, derivative: (Double) -> Double)] = [
    (.identity, { $0 }, { _ in 1 }),
    (.relu, { max($0, 0) }, { $0 > 0 ? 1 : 0 }),
    (.leakyRelu(slope: 0.1), { $0 > 0 ? $0 : 0.1 * $0 }, { $0 > 0 ? 1 : 0.1 }),
    (.sigmoid, { 1 / (1 + Foundation.exp(-$0)) }, { let s = 1 / (1 + Foundation.exp(-$0)); return s * (1 - s) }),
    (.tanh, { Foundation.tanh($0) }, { 1 - Foundation.tanh($0) * Foundation.tanh($0) }),
    (.softplus, { Foundation.log1p(Foundation.exp($0)) }, { 1 / (1 + Foundation.exp(-$0)) }),
    (.exp, { Foundation.exp($0) }, { Foundation.exp($0) }),
]

/// Inputs in [-4, 4] kept at least `gap` away from 0 (the kink of the ReLUs), plus a few past softplus' cutoff of 20.
func activationInputs(_ count: Int, seed: UInt64, gap: Float = 0.05) -> [Float] {
    var rng = TestRandom(seed: seed)
    var x = rng.array(count, -4, 4).map { abs($0) < gap ? $0 + ($0 < 0 ? -gap : gap) : $0 }
    for i in Swift.stride(from: 3, to: count, by: 97) { x[i] = rng.uniform(18, 24) }
    return x
}

/// Copies `values` into a view at `offset` of a buffer padded on both sides with `pad`.
func paddedBuffer(_ device: any Device, _ values: [Float], offset: Int, pad: Float = .nan) throws -> (Buffer, BufferSlice) {
    let buffer = try device.makeBuffer([Float](repeating: pad, count: offset) + values + [Float](repeating: pad, count: 3))
    return (buffer, buffer.slice(offset, values.count))
}

/// True when every element of the buffer outside `view` is still NaN.
func paddingIntact(_ device: any Device, _ buffer: Buffer, _ view: BufferSlice) -> Bool {
    let all = device.read(buffer.whole)
    return all.indices.allSatisfy { $0 >= view.offset && $0 < view.offset + view.count || all[$0].isNaN }
}

@Suite struct ElementwiseTests {
    @Test(arguments: TestDevices.selectors)
    func activationsMatchReference(selector: String) throws {
        let device = try TestDevices.device(selector)
        for (activation, value, _) in allActivations {
            for n in [1, 255, 257, 100_003] {
                let x = activationInputs(n, seed: UInt64(n))
                let (_, dx) = try paddedBuffer(device, x, offset: 5)
                let (yStore, dy) = try paddedBuffer(device, [Float](repeating: .nan, count: n), offset: 2)
                device.activate(dx, into: dy, activation: activation)
                let expected = x.map { value(Double($0)) }
                #expect(mismatch(device.read(dy), expected, rtol: 2e-6, atol: 1e-7) == nil, "\(selector) \(activation) n=\(n)")
                #expect(paddingIntact(device, yStore, dy), "\(selector) \(activation) wrote outside its view")
                // In place.
                device.activate(dx, into: dx, activation: activation)
                #expect(mismatch(device.read(dx), expected, rtol: 2e-6, atol: 1e-7) == nil, "\(selector) \(activation) in place")
            }
        }
        try device.checkHealth()
    }

    @Test(arguments: TestDevices.selectors, [false, true])
    func activationGradientsMatchReference(selector: String, accumulate: Bool) throws {
        let device = try TestDevices.device(selector)
        var rng = TestRandom(seed: 11)
        for (activation, _, derivative) in allActivations {
            for n in [1, 257, 65_537] {
                let x = activationInputs(n, seed: UInt64(n) + 1)
                let upstream = rng.array(n), old = rng.array(n)
                let (_, dx) = try paddedBuffer(device, x, offset: 1)
                let y = try device.makeBuffer(count: n, dtype: .float32)
                device.activate(dx, into: y.whole, activation: activation)
                let (_, ddy) = try paddedBuffer(device, upstream, offset: 4)
                let (gradStore, dgrad) = try paddedBuffer(device, old, offset: 7)
                device.activationBackward(ddy, input: dx, output: y.whole, into: dgrad, activation: activation,
                                          accumulate: accumulate)
                let expected = (0..<n).map {
                    Double(upstream[$0]) * derivative(Double(x[$0])) + (accumulate ? Double(old[$0]) : 0)
                }
                #expect(mismatch(device.read(dgrad), expected, rtol: 1e-4, atol: 1e-6) == nil,
                        "\(selector) \(activation) n=\(n) accumulate=\(accumulate)")
                #expect(paddingIntact(device, gradStore, dgrad))
                // dx may be dy.
                device.activationBackward(ddy, input: dx, output: y.whole, into: ddy, activation: activation,
                                          accumulate: accumulate)
                let inPlace = (0..<n).map {
                    Double(upstream[$0]) * derivative(Double(x[$0])) + (accumulate ? Double(upstream[$0]) : 0)
                }
                #expect(mismatch(device.read(ddy), inPlace, rtol: 1e-4, atol: 1e-6) == nil, "\(selector) \(activation) dx = dy")
            }
        }
        try device.checkHealth()
    }

    /// The backward pass against central differences of the device's own forward pass.
    @Test(arguments: TestDevices.selectors)
    func activationGradientsMatchFiniteDifferences(selector: String) throws {
        let device = try TestDevices.device(selector)
        var rng = TestRandom(seed: 5)
        let n = 1000, h: Float = 1e-2
        for (activation, _, _) in allActivations {
            let x = activationInputs(n, seed: 9, gap: 3 * h)
            let upstream = rng.array(n)
            let dx = try device.makeBuffer(x), y = try device.makeBuffer(count: n, dtype: .float32)
            let plus = try device.makeBuffer(x.map { $0 + h }), minus = try device.makeBuffer(x.map { $0 - h })
            device.activate(dx.whole, into: y.whole, activation: activation)
            device.activate(plus.whole, into: plus.whole, activation: activation)
            device.activate(minus.whole, into: minus.whole, activation: activation)
            let ddy = try device.makeBuffer(upstream), grad = try device.makeBuffer(count: n, dtype: .float32)
            device.activationBackward(ddy.whole, input: dx.whole, output: y.whole, into: grad.whole,
                                      activation: activation, accumulate: false)
            let fPlus = device.read(plus.whole), fMinus = device.read(minus.whole)
            // Step actually taken in float, so the quotient is not off by the rounding of x ± h.
            let expected = (0..<n).map { i in
                Double(upstream[i]) * (Double(fPlus[i]) - Double(fMinus[i])) / (Double(x[i] + h) - Double(x[i] - h))
            }
            #expect(mismatch(device.read(grad.whole), expected, rtol: 2e-3, atol: 2e-4) == nil, "\(selector) \(activation)")
        }
    }

    @Test(arguments: TestDevices.selectors)
    func axpbyScalesAndAdds(selector: String) throws {
        let device = try TestDevices.device(selector)
        var rng = TestRandom(seed: 21)
        for n in [1, 300, 70_001] {
            let x = rng.array(n), y0 = rng.array(n)
            for (alpha, beta) in [(Float(0.5), Float(-2)), (1, 1), (-3, 0.25)] {
                let (_, dx) = try paddedBuffer(device, x, offset: 3)
                let (store, dy) = try paddedBuffer(device, y0, offset: 6)
                device.axpby(alpha: alpha, dx, beta: beta, dy)
                let expected = (0..<n).map { Double(alpha) * Double(x[$0]) + Double(beta) * Double(y0[$0]) }
                #expect(mismatch(device.read(dy), expected, rtol: 1e-6, atol: 1e-6) == nil, "\(selector) n=\(n) α=\(alpha) β=\(beta)")
                #expect(paddingIntact(device, store, dy))
            }
            // β = 0 ignores NaN in y.
            let (_, dx) = try paddedBuffer(device, x, offset: 3)
            let (_, dy) = try paddedBuffer(device, [Float](repeating: .nan, count: n), offset: 1)
            device.axpby(alpha: 2, dx, beta: 0, dy)
            #expect(mismatch(device.read(dy), x.map { 2 * Double($0) }, rtol: 0, atol: 0) == nil, "\(selector) β = 0")
            // y = α·y + β·y with x and y the same view.
            device.axpby(alpha: 1, dx, beta: 1, dx)
            #expect(mismatch(device.read(dx), x.map { 2 * Double($0) }, rtol: 0, atol: 0) == nil, "\(selector) aliased")
        }
    }

    @Test(arguments: TestDevices.selectors)
    func multiplyAndMaskedGradient(selector: String) throws {
        let device = try TestDevices.device(selector)
        var rng = TestRandom(seed: 33)
        for n in [1, 257, 50_003] {
            let a = rng.array(n), b = rng.array(n)
            let mask = (0..<n).map { i -> Float in i % 3 == 0 ? 0 : (i % 3 == 1 ? rng.uniform(0.5, 2) : -rng.uniform(0.5, 2)) }
            let (_, da) = try paddedBuffer(device, a, offset: 2)
            let (_, db) = try paddedBuffer(device, b, offset: 9)
            let (store, dc) = try paddedBuffer(device, [Float](repeating: .nan, count: n), offset: 4)
            device.multiply(da, db, into: dc)
            #expect(mismatch(device.read(dc), (0..<n).map { Double(a[$0]) * Double(b[$0]) }, rtol: 1e-6, atol: 0) == nil)
            #expect(paddingIntact(device, store, dc))
            device.multiply(da, db, into: da)
            #expect(mismatch(device.read(da), (0..<n).map { Double(a[$0]) * Double(b[$0]) }, rtol: 1e-6, atol: 0) == nil)

            let (_, dmask) = try paddedBuffer(device, mask, offset: 1)
            let (gradStore, dgrad) = try paddedBuffer(device, [Float](repeating: .nan, count: n), offset: 5)
            device.maskedGradient(db, mask: dmask, into: dgrad)
            let expected = (0..<n).map { mask[$0] != 0 ? Double(b[$0]) : 0 }
            #expect(mismatch(device.read(dgrad), expected, rtol: 0, atol: 0) == nil, "\(selector) n=\(n)")
            #expect(paddingIntact(device, gradStore, dgrad))
            device.maskedGradient(db, mask: dmask, into: db)
            #expect(mismatch(device.read(db), expected, rtol: 0, atol: 0) == nil, "\(selector) in place")
        }
    }

    /// Reference top-k: order by value descending, then by column ascending; keep the first k.
    func referenceTopK(_ x: [Float], rows: Int, cols: Int, k: Int) -> [Double] {
        var out = [Double](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            let order = (0..<cols).sorted { i, j in
                let a = x[r * cols + i], b = x[r * cols + j]
                return a != b ? a > b : i < j
            }
            for j in order.prefix(k) { out[r * cols + j] = Double(x[r * cols + j]) }
        }
        return out
    }

    @Test(arguments: TestDevices.selectors)
    func topKKeepsLargestWithTiesToLowerIndex(selector: String) throws {
        let device = try TestDevices.device(selector)
        var rng = TestRandom(seed: 44)
        let shapes = [(1, 1, 1), (1, 1, 3), (4, 9, 0), (5, 37, 1), (6, 37, 3), (3, 1000, 10), (3, 1000, 999),
                      (2, 600, 600), (7, 64, 64), (70, 300, 17), (2, 3, 2)]
        for (rows, cols, k) in shapes {
            for ties in [false, true] {
                // With `ties`, values come from a handful of levels (zeros, negatives and -0 among them).
                let x = (0..<(rows * cols)).map { _ -> Float in
                    ties ? [Float(-0.0), 0, 1, -1, 2, 2, -3][Int(rng.next() % 7)] : rng.uniform(-5, 5)
                }
                let (_, dx) = try paddedBuffer(device, x, offset: 3)
                let (store, dy) = try paddedBuffer(device, [Float](repeating: .nan, count: rows * cols), offset: 8)
                device.topK(dx, into: dy, rows: rows, cols: cols, k: k)
                let expected = referenceTopK(x, rows: rows, cols: cols, k: k)
                #expect(mismatch(device.read(dy), expected, rtol: 0, atol: 0) == nil,
                        "\(selector) \(rows)x\(cols) k=\(k) ties=\(ties)")
                #expect(paddingIntact(device, store, dy))
                device.topK(dx, into: dx, rows: rows, cols: cols, k: k)
                #expect(mismatch(device.read(dx), expected, rtol: 0, atol: 0) == nil,
                        "\(selector) \(rows)x\(cols) k=\(k) ties=\(ties) in place")
            }
        }
        try device.checkHealth()
    }
}
