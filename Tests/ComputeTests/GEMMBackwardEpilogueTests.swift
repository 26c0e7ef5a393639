@testable import Compute
import Testing
import TestSupport

/// The backward epilogue of a product: C = (α·op(A)·op(B) + β·C) ⊙ g′(Y) and rowSums = α·op(A)·1 + β·rowSums, on
/// the kernel each device picks, on every OpenCL plan and tiling preset, and on the TF32 kernel.
@Suite struct GEMMBackwardEpilogueTests {
    /// One product's inputs and reference results. The derivative alternates between ReLU (Y of both signs) and
    /// sigmoid (Y in (0, 1)); C and the row sums start as NaN when β = 0.
    struct Case {
        let m: Int, n: Int, k: Int, transposes: (Bool, Bool), beta: Float, activation: Activation
        let a: [Float], b: [Float], y: [Float], c0: [Float], sums0: [Float]
        let expected: [Double], expectedSums: [Double]

        init(m: Int, n: Int, k: Int, transposes: (Bool, Bool), beta: Float, round: (Float) -> Float = { $0 }) {
            var rng = TestRandom(seed: UInt64(m * 7919 + n * 131 + k) + (beta == 0 ? 0 : 1))
            (self.m, self.n, self.k, self.transposes, self.beta) = (m, n, k, transposes, beta)
            activation = (m + n) % 2 == 0 ? .relu : .sigmoid
            a = rng.array(m * k)
            b = rng.array(k * n)
            y = activation == .relu ? rng.array(m * n) : rng.array(m * n, 0.01, 0.99)
            c0 = beta == 0 ? [Float](repeating: .nan, count: m * n) : rng.array(m * n)
            sums0 = beta == 0 ? [Float](repeating: .nan, count: m) : rng.array(m)
            let product = referenceGEMM(a.map(round), transposeA: transposes.0, b.map(round), transposeB: transposes.1,
                                        c: c0, m: m, n: n, k: k, alpha: 0.75, beta: Double(beta), bias: nil) { $0 }
            let relu = activation == .relu
            expected = zip(product, y).map { v, y in v * (relu ? (y > 0 ? 1 : 0) : Double(y) * (1 - Double(y))) }
            let (rounded, transposeA, start) = (a.map(round), transposes.0, sums0)
            expectedSums = (0..<m).map { i in
                let total = (0..<k).reduce(0.0) { $0 + Double(transposeA ? rounded[$1 * m + i] : rounded[i * k + $1]) }
                return 0.75 * total + (beta == 0 ? 0 : Double(beta) * Double(start[i]))
            }
        }

        /// Runs `product(a, b, derivative, c, rowSums)` on views at offsets into larger buffers; describes any
        /// mismatch or write outside C and the row sums.
        func failure(on device: any Device, atol: Double = 1e-4,
                     _ product: (BufferSlice, BufferSlice, ActivationDerivative, BufferSlice, BufferSlice) -> Void) throws -> String? {
            let store = try device.makeBuffer([0, 0, 0] + a + b + y)
            let out = try device.makeBuffer([Float](repeating: 7, count: 5) + c0 + [7, 7] + sums0 + [7])
            let derivative = ActivationDerivative(activation, output: store.slice(3 + m * k + k * n, m * n))
            product(store.slice(3, m * k), store.slice(3 + m * k, k * n), derivative, out.slice(5, m * n),
                    out.slice(7 + m * n, m))
            let result = device.read(out.whole)
            let guards = Array(result[..<5]) + Array(result[(5 + m * n)..<(7 + m * n)]) + [result.last!]
            if guards != [7, 7, 7, 7, 7, 7, 7, 7] { return "wrote outside C and the row sums" }
            if let failure = mismatch(Array(result[5..<(5 + m * n)]), expected, rtol: 1e-4, atol: atol) {
                return "C: \(failure)"
            }
            return mismatch(Array(result[(7 + m * n)..<(7 + m * n + m)]), expectedSums, rtol: 1e-4, atol: atol)
                .map { "row sums: \($0)" }
        }
    }

    static let transposes = [(false, false), (true, false), (false, true), (true, true)]

    @Test(arguments: TestDevices.selectors, transposes)
    func chosenKernelMatchesReference(selector: String, transposes: (Bool, Bool)) throws {
        let device = try TestDevices.device(selector)
        for (m, n, k) in GEMMKernelPathTests.shapes + [(1, 1, 1), (128, 784, 256)] {
            for beta: Float in [0, 1] {
                let failure = try Case(m: m, n: n, k: k, transposes: transposes, beta: beta).failure(on: device) { a, b, g, c, sums in
                    device.gemm(a, transposeA: transposes.0, b, transposeB: transposes.1, into: c, m: m, n: n, k: k,
                                alpha: 0.75, beta: beta, epilogue: ProductEpilogue(derivative: g), rowSums: sums)
                }
                #expect(failure == nil, "\(selector) \(m)x\(n)x\(k) \(transposes) β=\(beta): \(failure ?? "")")
            }
        }
    }

    /// Every kernel (split-K included) with every tiling preset on the first OpenCL device.
    @Test(arguments: ["nvidia", "gpu", "cpu"], transposes)
    func everyKernelAndTilingMatchesReference(tilingName: String, transposes: (Bool, Bool)) throws {
        try GEMMKernelPathTests.forEveryPlan(tilingName: tilingName) { device, m, n, k, plan in
            let product = Case(m: m, n: n, k: k, transposes: transposes, beta: m % 2 == 0 ? 0 : 1.5)
            let failure = try product.failure(on: device) { a, b, g, c, sums in
                device.gemm(a, transposeA: transposes.0, b, transposeB: transposes.1, into: c, m: m, n: n, k: k,
                            alpha: 0.75, beta: product.beta, epilogue: ProductEpilogue(derivative: g),
                            rowSums: sums, plan: plan)
            }
            #expect(failure == nil, "\(tilingName) \(plan) \(m)x\(n)x\(k) \(transposes): \(failure ?? "")")
        }
    }

    /// The TF32 kernel (emulated warp product): the row sums, like the product, see A rounded to TF32.
    @Test(arguments: TF32Tests.openCLSelectors, transposes)
    func tf32KernelMatchesRoundedReference(selector: String, transposes: (Bool, Bool)) throws {
        let device = try TF32Tests.emulatedDevice(selector)
        for (m, n, k) in [(1, 1, 1), (130, 259, 67)] {
            for beta: Float in [0, 0.5] {
                let product = Case(m: m, n: n, k: k, transposes: transposes, beta: beta, round: referenceTF32)
                let failure = try product.failure(on: device, atol: 2e-6 * Double(k).squareRoot()) { a, b, g, c, sums in
                    device.gemmTF32(a, transposeA: transposes.0, b, transposeB: transposes.1, into: c, m: m, n: n, k: k,
                                    alpha: 0.75, beta: beta, epilogue: ProductEpilogue(derivative: g), rowSums: sums)
                }
                #expect(failure == nil, "\(selector) \(m)x\(n)x\(k) \(transposes) β=\(beta): \(failure ?? "")")
            }
        }
    }

    @Test func derivativeNeedsAnActivationKnownFromItsOutput() {
        #expect(Activation.relu.derivativeFromOutput && Activation.leakyRelu(slope: 0).derivativeFromOutput)
        #expect(!Activation.softplus.derivativeFromOutput && !Activation.leakyRelu(slope: -1).derivativeFromOutput)
    }
}
