@testable import Compute
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

/// The blocked, split-K and simple OpenCL kernels, and the rule choosing among them.
@Suite struct GEMMKernelPathTests {
    /// Shapes and transposes that put tile edges, k = 1, m = 1, n = 1 and long K through a kernel.
    static let shapes: [(m: Int, n: Int, k: Int)] = [(130, 259, 67), (257, 129, 300), (33, 40, 1), (1, 70, 33), (70, 1, 33),
                                                     (12, 300, 50), (40, 50, 700)]
    static let plans: [GEMMPlan] = [.simple, .blocked(splits: 1, kChunk: 0), .blocked(splits: 3, kChunk: 0)]

    /// One product's inputs and its reference result: C starts as NaN (β = 0) or as data (β ≠ 0), α = 0.75,
    /// with a bias and a leaky ReLU.
    struct Case {
        let m: Int, n: Int, k: Int, transposes: (Bool, Bool), beta: Float
        let a: [Float], b: [Float], bias: [Float], c0: [Float], expected: [Double]

        init(m: Int, n: Int, k: Int, transposes: (Bool, Bool), beta: Float) {
            var rng = TestRandom(seed: UInt64(m * 1_000_003 + n * 1009 + k))
            (self.m, self.n, self.k, self.transposes, self.beta) = (m, n, k, transposes, beta)
            a = rng.array(m * k)
            b = rng.array(k * n)
            bias = rng.array(n)
            c0 = beta == 0 ? [Float](repeating: .nan, count: m * n) : rng.array(m * n)
            expected = referenceGEMM(a, transposeA: transposes.0, b, transposeB: transposes.1, c: c0, m: m, n: n, k: k,
                                     alpha: 0.75, beta: Double(beta), bias: bias) { $0 > 0 ? $0 : 0.1 * $0 }
        }

        /// Runs `product(a, b, bias, c)` on views at offsets into larger buffers; describes any mismatch or
        /// write outside C.
        func failure(on device: any Device, _ product: (BufferSlice, BufferSlice, BufferSlice, BufferSlice) -> Void) throws -> String? {
            let store = try device.makeBuffer([0, 0, 0] + a + b + bias)
            let out = try device.makeBuffer([Float](repeating: 7, count: 5) + c0 + [7, 7])
            product(store.slice(3, m * k), store.slice(3 + m * k, k * n), store.slice(3 + m * k + k * n, n), out.slice(5, m * n))
            let result = device.read(out.whole)
            if Array(result[..<5]) + Array(result[(5 + m * n)...]) != [7, 7, 7, 7, 7, 7, 7] { return "wrote outside C" }
            return mismatch(Array(result[5..<(5 + m * n)]), expected, rtol: 1e-4, atol: 1e-4)
        }
    }

    @Test(arguments: TestDevices.selectors, [(false, false), (true, false), (false, true), (true, true)])
    func chosenKernelMatchesReference(selector: String, transposes: (Bool, Bool)) throws {
        let device = try TestDevices.device(selector)
        for (m, n, k) in Self.shapes {
            for beta: Float in [0, -0.5] {
                let failure = try Case(m: m, n: n, k: k, transposes: transposes, beta: beta).failure(on: device) { a, b, bias, c in
                    device.gemm(a, transposeA: transposes.0, b, transposeB: transposes.1, into: c, m: m, n: n, k: k,
                                alpha: 0.75, beta: beta, bias: bias, activation: .leakyRelu(slope: 0.1))
                }
                #expect(failure == nil, "\(selector) \(m)x\(n)x\(k) \(transposes) β=\(beta): \(failure ?? "")")
            }
        }
    }

    /// Every kernel with every tiling preset on the first OpenCL device (PoCL here), so the NVIDIA tiles are
    /// checked even where no NVIDIA GPU is.
    @Test(arguments: ["nvidia", "gpu", "cpu"], [(false, false), (true, false), (false, true), (true, true)])
    func everyKernelAndTilingMatchesReference(tilingName: String, transposes: (Bool, Bool)) throws {
        try Self.forEveryPlan(tilingName: tilingName) { device, m, n, k, plan in
            let product = Case(m: m, n: n, k: k, transposes: transposes, beta: m % 2 == 0 ? 0 : 1.5)
            let failure = try product.failure(on: device) { a, b, bias, c in
                device.gemm(a, transposeA: transposes.0, b, transposeB: transposes.1, into: c, m: m, n: n, k: k,
                            alpha: 0.75, beta: product.beta, epilogue: ProductEpilogue(bias: bias, activation: .leakyRelu(slope: 0.1)),
                            rowSums: nil, plan: plan)
            }
            #expect(failure == nil, "\(tilingName) \(plan) \(m)x\(n)x\(k) \(transposes): \(failure ?? "")")
        }
    }

    /// Runs `check(device, m, n, k, plan)` for every shape and every plan (split-K ranges cut for the tiling) on the
    /// first OpenCL device opened with the tiling preset named; nothing where there is no OpenCL device.
    static func forEveryPlan(tilingName: String,
                             _ check: (OpenCLDevice, Int, Int, Int, GEMMPlan) throws -> Void) throws {
        guard TestDevices.selectors.contains("opencl:0"), let tiling = GEMMTiling.presets[tilingName] else { return }
        let device = try OpenCLDevice(index: 0, gemmTiling: tiling)
        for (m, n, k) in shapes {
            for plan in plans {
                let forced = if case .blocked(let splits, _) = plan { GEMMPlan.split(k: k, into: splits, tileK: tiling.tileK) } else { plan }
                try check(device, m, n, k, forced)
            }
        }
        try device.checkHealth()
    }

    @Test func planFollowsTheRule() {
        // The figures below are for 128×128 tiles, 16-deep slices.
        let nvidia = GEMMTiling(tileM: 128, tileN: 128, tileK: 16, workM: 8, workN: 8)
        // Batch-sized products take the simple kernel.
        #expect(GEMMPlan(m: 16, n: 4096, k: 4096, tiling: nvidia, computeUnits: 132) == .simple)
        #expect(GEMMPlan(m: 4096, n: 8, k: 4096, tiling: nvidia, computeUnits: 132) == .simple)
        // Enough tiles: blocked, one K range.
        #expect(GEMMPlan(m: 4096, n: 4096, k: 4096, tiling: nvidia, computeUnits: 132) == .blocked(splits: 1, kChunk: 4096))
        // dW = dYᵀ·X: 784×256 has 14 tiles of 128×128; K = 4096 splits into ⌈132/14⌉ = 10 ranges of 416.
        #expect(GEMMPlan(m: 784, n: 256, k: 4096, tiling: nvidia, computeUnits: 132) == .blocked(splits: 10, kChunk: 416))
        // Few tiles and short K: the simple kernel's many small groups.
        #expect(GEMMPlan(m: 256, n: 256, k: 256, tiling: nvidia, computeUnits: 132) == .simple)
        #expect(GEMMPlan(m: 256, n: 200, k: 64, tiling: .cpu, computeUnits: 2) == .blocked(splits: 1, kChunk: 64))
        // Split ranges are whole slices deep and cover K.
        #expect(GEMMPlan.split(k: 1000, into: 3, tileK: 16) == .blocked(splits: 3, kChunk: 336))
        #expect(GEMMPlan.split(k: 1, into: 3, tileK: 16) == .blocked(splits: 1, kChunk: 16))
    }

    @Test func environmentForcesAPlan() {
        let variable = "AUTOENCODERKIT_GEMM_PLAN"
        #expect(GEMMPlan.forced(environment: [:]) == nil)
        #expect(GEMMPlan.forced(environment: [variable: "Simple"]) == .simple)
        #expect(GEMMPlan.forced(environment: [variable: "blocked"]) == .splits(1))
        #expect(GEMMPlan.forced(environment: [variable: "split:4"]) == .splits(4))
        for invalid in ["split:0", "split:17", "split:x", "fast"] {
            #expect(GEMMPlan.forced(environment: [variable: invalid]) == nil, "\(invalid)")
        }
        let nvidia = GEMMTiling(tileM: 128, tileN: 128, tileK: 16, workM: 8, workN: 8)
        #expect(GEMMPlan.Forced.splits(4).plan(k: 1000, tiling: nvidia) == .blocked(splits: 4, kChunk: 256))
        #expect(GEMMPlan.Forced.splits(1).plan(k: 0, tiling: nvidia) == .blocked(splits: 1, kChunk: 16))
        #expect(GEMMPlan.Forced.simple.plan(k: 1000, tiling: nvidia) == .simple)
    }
}
