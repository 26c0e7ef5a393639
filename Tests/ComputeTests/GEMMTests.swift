import Compute
import Testing
import TestSupport

/// Plain double-precision reference for C = act(α·op(A)·op(B) + β·C + bias).
func referenceGEMM(_ a: [Float], transposeA: Bool, _ b: [Float], transposeB: Bool, c: [Float],
                   m: Int, n: Int, k: Int, alpha: Double, beta: Double, bias: [Float]?,
                   activation: (Double) -> Double) -> [Double] {
    var out = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let av = transposeA ? a[p * m + i] : a[i * k + p]
                let bv = transposeB ? b[j * k + p] : b[p * n + j]
                s += Double(av) * Double(bv)
            }
            var v = alpha * s + (beta == 0 ? 0 : beta * Double(c[i * n + j]))
            if let bias { v += Double(bias[j]) }
            out[i * n + j] = activation(v)
        }
    }
    return out
}

@Suite struct GEMMTests {
    @Test(arguments: TestDevices.selectors, [(false, false), (true, false), (false, true), (true, true)])
    func matchesReference(selector: String, transposes: (Bool, Bool)) throws {
        let device = try TestDevices.device(selector)
        var rng = TestRandom(seed: 7)
        for (m, n, k) in [(1, 1, 1), (37, 19, 23), (64, 48, 80), (5, 130, 3)] {
            let a = rng.array(m * k), b = rng.array(k * n), c0 = rng.array(m * n), bias = rng.array(n)
            let da = try device.makeBuffer(a), db = try device.makeBuffer(b)
            let dc = try device.makeBuffer(c0), dbias = try device.makeBuffer(bias)
            device.gemm(da.whole, transposeA: transposes.0, db.whole, transposeB: transposes.1, into: dc.whole,
                        m: m, n: n, k: k, alpha: 0.5, beta: 2, bias: dbias.whole, activation: .relu)
            let expected = referenceGEMM(a, transposeA: transposes.0, b, transposeB: transposes.1, c: c0,
                                         m: m, n: n, k: k, alpha: 0.5, beta: 2, bias: bias) { max($0, 0) }
            #expect(mismatch(device.read(dc.whole), expected) == nil, "\(selector) \(m)x\(n)x\(k)")
        }
    }

    @Test(arguments: TestDevices.selectors)
    func betaZeroIgnoresGarbageAndOffsetsWork(selector: String) throws {
        let device = try TestDevices.device(selector)
        var rng = TestRandom(seed: 3)
        let (m, n, k) = (9, 7, 11)
        let packed = rng.array(3 + m * k + k * n)
        let store = try device.makeBuffer(packed)
        let out = try device.makeBuffer([Float](repeating: .nan, count: 2 + m * n))
        let a = store.slice(3, m * k), b = store.slice(3 + m * k, k * n)
        device.gemm(a, b, into: out.slice(2, m * n), m: m, n: n, k: k)
        let expected = referenceGEMM(Array(packed[3..<(3 + m * k)]), transposeA: false, Array(packed[(3 + m * k)...]),
                                     transposeB: false, c: [], m: m, n: n, k: k, alpha: 1, beta: 0, bias: nil) { $0 }
        let result = device.read(out.whole)
        #expect(result[0].isNaN && result[1].isNaN)
        #expect(mismatch(Array(result[2...]), expected) == nil)
    }
}
