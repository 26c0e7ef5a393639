import Compute
import Testing
import TestSupport

/// Double-precision training-mode batch norm over [n, c, s]: y, batch mean, biased and unbiased variance.
func referenceBatchNorm(_ x: [Float], gamma: [Float], beta: [Float], n: Int, c: Int, s: Int, epsilon: Double)
    -> (y: [Double], mean: [Double], variance: [Double], unbiased: [Double]) {
    let m = Double(n * s)
    var y = [Double](repeating: 0, count: x.count)
    var means: [Double] = [], variances: [Double] = [], unbiased: [Double] = []
    for ch in 0..<c {
        let offsets = (0..<n).flatMap { b in (0..<s).map { (b * c + ch) * s + $0 } }
        let mean = offsets.reduce(0.0) { $0 + Double(x[$1]) } / m
        let variance = offsets.reduce(0.0) { $0 + (Double(x[$1]) - mean) * (Double(x[$1]) - mean) } / m
        for o in offsets {
            y[o] = Double(gamma[ch]) * (Double(x[o]) - mean) / (variance + epsilon).squareRoot() + Double(beta[ch])
        }
        means.append(mean)
        variances.append(variance)
        unbiased.append(variance * m / max(m - 1, 1))
    }
    return (y, means, variances, unbiased)
}

/// Double-precision training-mode batch-norm gradients: dx, dγ, dβ.
func referenceBatchNormBackward(_ dy: [Float], x: [Float], gamma: [Float], n: Int, c: Int, s: Int, epsilon: Double)
    -> (dx: [Double], dgamma: [Double], dbeta: [Double]) {
    let stats = referenceBatchNorm(x, gamma: gamma, beta: [Float](repeating: 0, count: c), n: n, c: c, s: s, epsilon: epsilon)
    let m = Double(n * s)
    var dx = [Double](repeating: 0, count: x.count), dgamma: [Double] = [], dbeta: [Double] = []
    for ch in 0..<c {
        let offsets = (0..<n).flatMap { b in (0..<s).map { (b * c + ch) * s + $0 } }
        let invStd = 1 / (stats.variance[ch] + epsilon).squareRoot()
        let xHat = offsets.map { (Double(x[$0]) - stats.mean[ch]) * invStd }
        let sumDy = offsets.reduce(0.0) { $0 + Double(dy[$1]) }
        let sumDyXHat = zip(offsets, xHat).reduce(0.0) { $0 + Double(dy[$1.0]) * $1.1 }
        for (o, h) in zip(offsets, xHat) {
            dx[o] = Double(gamma[ch]) * invStd * (Double(dy[o]) - sumDy / m - h * sumDyXHat / m)
        }
        dgamma.append(sumDyXHat)
        dbeta.append(sumDy)
    }
    return (dx, dgamma, dbeta)
}

@Suite struct NormalizationTests {
    static let shapes = [(4, 3, 5), (7, 2, 1), (2, 5, 300), (1, 1, 2)]

    /// Two training steps (y, saved statistics, running statistics after both), then evaluation with the
    /// running statistics.
    @Test(arguments: TestDevices.selectors, shapes)
    func forwardTrainsThenEvaluates(selector: String, shape: (n: Int, c: Int, s: Int)) throws {
        let device = try TestDevices.device(selector)
        let (n, c, s) = shape
        let count = n * c * s, eps = Float(1e-5), momentum = Float(0.1)
        var rng = TestRandom(seed: UInt64(count))
        let gamma = rng.array(c, 0.5, 2), beta = rng.array(c)
        let rm0 = rng.array(c), rv0 = rng.array(c, 0.5, 2)
        // Per-channel statistics live at offsets in one buffer: γ, β, running mean/var, saved mean/inv-std.
        let stats = try device.makeBuffer([7] + gamma + beta + rm0 + rv0 + [Float](repeating: 0, count: 2 * c))
        let view = { (i: Int) in stats.slice(1 + i * c, c) }
        let xBuffer = try device.makeBuffer(count: count + 1, dtype: .float32)
        let yBuffer = try device.makeBuffer([Float](repeating: .nan, count: count + 2))
        let x = xBuffer.slice(1, count), y = yBuffer.slice(2, count)
        var rm = doubles(rm0), rv = doubles(rv0)
        for step in 0..<2 {
            let input = rng.array(count, -3, 5).map { $0 * Float(step + 1) }
            device.write(input, to: x)
            device.batchNormForward(x, gamma: view(0), beta: view(1), runningMean: view(2), runningVar: view(3),
                                    savedMean: view(4), savedInvStd: view(5), into: y, n: n, channels: c, spatial: s,
                                    momentum: momentum, epsilon: eps, training: true)
            let ref = referenceBatchNorm(input, gamma: gamma, beta: beta, n: n, c: c, s: s, epsilon: Double(eps))
            for ch in 0..<c {
                rm[ch] = (1 - Double(momentum)) * rm[ch] + Double(momentum) * ref.mean[ch]
                rv[ch] = (1 - Double(momentum)) * rv[ch] + Double(momentum) * ref.unbiased[ch]
            }
            #expect(mismatch(device.read(y), ref.y, rtol: 1e-4, atol: 1e-4) == nil, "\(selector) step \(step) y")
            #expect(mismatch(device.read(view(4)), ref.mean, rtol: 1e-5, atol: 1e-5) == nil, "saved mean")
            #expect(mismatch(device.read(view(5)), ref.variance.map { 1 / ($0 + Double(eps)).squareRoot() },
                             rtol: 1e-4, atol: 1e-5) == nil, "saved inverse std")
        }
        #expect(mismatch(device.read(view(2)), rm, rtol: 1e-5, atol: 1e-5) == nil, "\(selector) running mean")
        #expect(mismatch(device.read(view(3)), rv, rtol: 1e-5, atol: 1e-5) == nil, "\(selector) running var")

        let input = rng.array(count, -2, 2)
        device.write(input, to: x)
        let savedBefore = device.read(stats.whole)
        device.batchNormForward(x, gamma: view(0), beta: view(1), runningMean: view(2), runningVar: view(3),
                                savedMean: view(4), savedInvStd: view(5), into: y, n: n, channels: c, spatial: s,
                                momentum: momentum, epsilon: eps, training: false)
        var expected = [Double](repeating: 0, count: count)
        for i in 0..<count {
            let ch = (i / s) % c
            expected[i] = Double(gamma[ch]) * (Double(input[i]) - rm[ch]) / (rv[ch] + Double(eps)).squareRoot() + Double(beta[ch])
        }
        #expect(mismatch(device.read(y), expected, rtol: 1e-4, atol: 1e-4) == nil, "\(selector) eval y")
        #expect(device.read(stats.whole) == savedBefore, "evaluation leaves the statistics alone")
        let ends = device.read(yBuffer.slice(0, 2))
        #expect(ends[0].isNaN && ends[1].isNaN, "writes stay inside the view")
    }

    @Test(arguments: TestDevices.selectors, shapes)
    func backwardMatchesReference(selector: String, shape: (n: Int, c: Int, s: Int)) throws {
        let device = try TestDevices.device(selector)
        let (n, c, s) = shape
        let count = n * c * s, eps = Float(1e-5)
        var rng = TestRandom(seed: UInt64(count + 1))
        let input = rng.array(count, -2, 3), dyValues = rng.array(count)
        let gamma = rng.array(c, 0.5, 2), beta = rng.array(c)
        let dgamma0 = rng.array(c), dbeta0 = rng.array(c)
        let x = try device.makeBuffer(input), dy = try device.makeBuffer(dyValues)
        let y = try device.makeBuffer(count: count, dtype: .float32)
        let g = try device.makeBuffer(gamma), b = try device.makeBuffer(beta)
        let running = try device.makeBuffer(count: 2 * c, dtype: .float32)
        let saved = try device.makeBuffer(count: 2 * c, dtype: .float32)
        let dx = try device.makeBuffer([Float](repeating: .nan, count: count))
        let dgamma = try device.makeBuffer(dgamma0), dbeta = try device.makeBuffer(dbeta0)
        device.batchNormForward(x.whole, gamma: g.whole, beta: b.whole, runningMean: running.slice(0, c),
                                runningVar: running.slice(c, c), savedMean: saved.slice(0, c), savedInvStd: saved.slice(c, c),
                                into: y.whole, n: n, channels: c, spatial: s, momentum: 0.1, epsilon: eps, training: true)
        device.batchNormBackward(dy.whole, x: x.whole, gamma: g.whole, savedMean: saved.slice(0, c),
                                 savedInvStd: saved.slice(c, c), dx: dx.whole, dgamma: dgamma.whole, dbeta: dbeta.whole,
                                 n: n, channels: c, spatial: s)
        let ref = referenceBatchNormBackward(dyValues, x: input, gamma: gamma, n: n, c: c, s: s, epsilon: Double(eps))
        #expect(mismatch(device.read(dx.whole), ref.dx, rtol: 1e-3, atol: 1e-4) == nil, "\(selector) dx")
        #expect(mismatch(device.read(dgamma.whole), zip(dgamma0, ref.dgamma).map { Double($0) + $1 },
                         rtol: 1e-4, atol: 1e-4) == nil, "\(selector) dγ accumulates")
        #expect(mismatch(device.read(dbeta.whole), zip(dbeta0, ref.dbeta).map { Double($0) + $1 },
                         rtol: 1e-4, atol: 1e-4) == nil, "\(selector) dβ accumulates")
    }

    /// dx, dγ, dβ against central differences of L = Σ y·g through the device's own training forward pass.
    @Test(arguments: TestDevices.selectors, [(4, 3, 5), (6, 2, 1)])
    func backwardMatchesFiniteDifferences(selector: String, shape: (n: Int, c: Int, s: Int)) throws {
        let device = try TestDevices.device(selector)
        let (n, c, s) = shape
        let count = n * c * s, eps = Float(1e-5), h: Float = 1e-2
        var rng = TestRandom(seed: 99)
        let input = rng.array(count, -2, 2), upstream = rng.array(count)
        let params = rng.array(c, 0.5, 2) + rng.array(c)   // γ then β
        let x = try device.makeBuffer(input), p = try device.makeBuffer(params)
        let y = try device.makeBuffer(count: count, dtype: .float32)
        let scratch = try device.makeBuffer(count: 4 * c, dtype: .float32)
        let forward = {
            device.batchNormForward(x.whole, gamma: p.slice(0, c), beta: p.slice(c, c), runningMean: scratch.slice(0, c),
                                    runningVar: scratch.slice(c, c), savedMean: scratch.slice(2 * c, c),
                                    savedInvStd: scratch.slice(3 * c, c), into: y.whole, n: n, channels: c, spatial: s,
                                    momentum: 0.1, epsilon: eps, training: true)
        }
        let loss = { () -> Double in
            forward()
            return zip(device.read(y.whole), upstream).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        func centralDifferences(_ buffer: Buffer, _ values: [Float]) -> [Double] {
            values.indices.map { i in
                var shifted = values
                shifted[i] = values[i] + h
                device.write(shifted, to: buffer.whole)
                let plus = loss()
                shifted[i] = values[i] - h
                device.write(shifted, to: buffer.whole)
                let minus = loss()
                device.write(values, to: buffer.whole)
                return (plus - minus) / Double(2 * h)
            }
        }
        let numericX = centralDifferences(x, input), numericP = centralDifferences(p, params)

        forward()
        let dy = try device.makeBuffer(upstream), dx = try device.makeBuffer(count: count, dtype: .float32)
        let dp = try device.makeBuffer(count: 2 * c, dtype: .float32)
        device.batchNormBackward(dy.whole, x: x.whole, gamma: p.slice(0, c), savedMean: scratch.slice(2 * c, c),
                                 savedInvStd: scratch.slice(3 * c, c), dx: dx.whole, dgamma: dp.slice(0, c),
                                 dbeta: dp.slice(c, c), n: n, channels: c, spatial: s)
        #expect(mismatch(device.read(dx.whole), numericX, rtol: 1e-2, atol: 2e-3) == nil, "\(selector) dx")
        #expect(mismatch(device.read(dp.whole), numericP, rtol: 1e-2, atol: 2e-3) == nil, "\(selector) dγ, dβ")
    }
}
