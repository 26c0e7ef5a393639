@testable import Compute
import Foundation
import Testing
import TestSupport

/// The TF32 kernel on PoCL (or any OpenCL device) through its emulated warp product: each test opens a
/// device of its own, so switching it to TF32 never touches the devices other suites share.
@Suite struct TF32Tests {
    static let openCLSelectors = TestDevices.selectors.filter { $0 != "cpu" }

    /// A fresh OpenCL device with the emulated TF32 kernel enabled.
    static func emulatedDevice(_ selector: String) throws -> OpenCLDevice {
        guard case .opencl(let index) = try DeviceSelection(parsing: selector) else { throw ComputeError.unknownDevice(selector) }
        let device = try OpenCLDevice(index: index)
        let availability = device.enableTF32(emulated: true)
        #expect(availability == .available)
        #expect(device.matmulPrecision == .tf32)
        return device
    }

    @Test(arguments: openCLSelectors)
    func roundingMatchesDefinition(selector: String) throws {
        let device = try Self.emulatedDevice(selector)
        var rng = TestRandom(seed: 11)
        var inputs: [Float] = [0, -0, 1, -1, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                               .leastNonzeroMagnitude, .leastNormalMagnitude, 1 + 0x1p-11, 1 + 0x1p-12, 1 + 3 * 0x1p-12,
                               -(1 + 0x1p-11), 1.5 + 0x1p-11, 3 * 0x1p-140, 0x1.ffep-130]
        // ties of both signs in [0.5, 1): low 13 bits exactly 0x1000
        for _ in 0..<64 {
            let bits = (UInt32(truncatingIfNeeded: rng.next()) & 0xFFFF_E000 | 0x1000) & ~0x7F80_0000 | 0x3F00_0000
            inputs.append(Float(bitPattern: bits))
        }
        for _ in 0..<2000 {
            let bits = UInt32(truncatingIfNeeded: rng.next())
            let x = Float(bitPattern: bits)
            inputs.append(x.isNaN ? 1 : x)
        }
        let x = try device.makeBuffer(inputs), y = try device.makeBuffer(count: inputs.count, dtype: .float32)
        device.roundToTF32(x.whole, into: y.whole)
        let result = device.read(y.whole)
        for (input, output) in zip(inputs, result) {
            let expected = referenceTF32(input)
            #expect(output.bitPattern == expected.bitPattern, "tf32(\(input)) = \(output), expected \(expected)")
        }
        #expect(result[10] == 1 + 0x1p-10)  // a tie rounds away from zero (to even would give 1)
        #expect(result[11] == 1)
        #expect(result[12] == 1 + 0x1p-10)  // nearest, not truncation
        device.roundToTF32(try device.makeBuffer([.nan]).whole, into: y.slice(0, 1))
        #expect(device.read(y.slice(0, 1))[0].isNaN)
    }

    /// The kernel against a double-precision product of the TF32-rounded inputs: the only difference left is
    /// FP32 accumulation, so the tolerance is tight, and a kernel that skipped the rounding would fail
    /// (inputs carry 23-bit mantissas, whose rounding moves each product by up to 2⁻¹¹ relative).
    @Test(arguments: openCLSelectors, [(false, false), (true, false), (false, true), (true, true)])
    func matchesRoundedReference(selector: String, transposes: (Bool, Bool)) throws {
        let device = try Self.emulatedDevice(selector)
        var rng = TestRandom(seed: 5)
        let shapes = [(1, 1, 1), (16, 8, 8), (130, 259, 67), (257, 129, 300), (3, 200, 17)]
        for (index, (m, n, k)) in shapes.enumerated() {
            let a = rng.array(m * k), b = rng.array(k * n), c0 = rng.array(m * n), bias = rng.array(n)
            // leading and trailing padding: the views start at offsets inside larger buffers
            let store = try device.makeBuffer([7, 7] + a + [7] + b + [7, 7, 7])
            let out = try device.makeBuffer([Float.nan] + c0 + [Float.nan])
            let dbias = try device.makeBuffer([9] + bias)
            let av = store.slice(2, m * k), bv = store.slice(3 + m * k, k * n), cv = out.slice(1, m * n)
            let accumulate = index % 2 == 0
            let activation: Activation = accumulate ? .leakyRelu(slope: 0.1) : .identity
            device.gemmTF32(av, transposeA: transposes.0, bv, transposeB: transposes.1, into: cv, m: m, n: n, k: k,
                            alpha: 0.75, beta: accumulate ? 0.5 : 0,
                            epilogue: ProductEpilogue(bias: accumulate ? dbias.slice(1, n) : nil, activation: activation))
            let expected = referenceGEMM(a.map(referenceTF32), transposeA: transposes.0, b.map(referenceTF32),
                                         transposeB: transposes.1, c: c0, m: m, n: n, k: k, alpha: 0.75,
                                         beta: accumulate ? 0.5 : 0, bias: accumulate ? bias : nil) {
                accumulate ? ($0 > 0 ? $0 : 0.1 * $0) : $0
            }
            let result = device.read(out.whole)
            #expect(result.first!.isNaN && result.last!.isNaN, "writes outside C at \(m)x\(n)x\(k)")
            #expect(mismatch(Array(result[1...(m * n)]), expected, rtol: 1e-5, atol: 2e-6 * Double(k).squareRoot()) == nil,
                    "\(selector) \(m)x\(n)x\(k) \(transposes)")
        }
    }

    /// β = 0 ignores NaN in C; a product of 1 + 2⁻¹² values comes out as TF32's k, not FP32's k·(1 + 2⁻¹¹);
    /// and the dispatch of ``OpenCLDevice/gemm`` sends large products to the TF32 kernel, small ones to FP32.
    @Test(arguments: openCLSelectors)
    func dispatchRoundsLargeProducts(selector: String) throws {
        let device = try Self.emulatedDevice(selector)
        let (m, n, k) = (64, 72, 96)
        let near1: Float = 1 + 0x1p-12
        let a = try device.makeBuffer([Float](repeating: near1, count: m * k))
        let b = try device.makeBuffer([Float](repeating: near1, count: k * n))
        let c = try device.makeBuffer([Float](repeating: .nan, count: m * n))
        #expect(device.usesTF32(m: m, n: n, k: k))
        device.gemm(a.whole, b.whole, into: c.whole, m: m, n: n, k: k)
        #expect(device.read(c.whole).allSatisfy { $0 == Float(k) }, "TF32 rounds 1 + 2⁻¹² to 1")
        // FP32 keeps it: k·(1 + 2⁻¹¹) after rounding each product, 96.046875
        device.disableTF32()
        #expect(device.matmulPrecision == .fp32)
        device.gemm(a.whole, b.whole, into: c.whole, m: m, n: n, k: k)
        let fp32 = device.read(c.whole)
        #expect(fp32.allSatisfy { abs($0 - Float(k) * (1 + 0x1p-11)) < 1e-4 })
        // re-enabling repeats the probe's answer; a small product stays FP32
        #expect(device.enableTF32(emulated: true) == .available)
        #expect(!device.usesTF32(m: 8, n: 8, k: 8))
        device.gemm(a.slice(0, 64), b.slice(0, 64), into: c.slice(0, 64), m: 8, n: 8, k: 8)
        #expect(device.read(c.slice(0, 64)).allSatisfy { abs($0 - 8 * (1 + 0x1p-11)) < 1e-5 })
    }

    @Test(arguments: openCLSelectors)
    func unavailableWithoutTensorCores(selector: String) throws {
        guard case .opencl(let index) = try DeviceSelection(parsing: selector) else { return }
        let device = try OpenCLDevice(index: index)
        if device.info.vendor.lowercased().contains("nvidia") { return }  // a device that may have tensor cores
        let availability = device.enableTF32(emulated: false)
        #expect(availability == .unavailable(reason: "TF32 tensor cores need an NVIDIA GPU; \(device.info.description) is \(device.info.vendor)"))
        #expect(device.matmulPrecision == .fp32)
    }

    @Test func unavailableOnCPU() {
        let device = CPUDevice()
        guard case .unavailable(let reason) = device.enableTF32() else {
            Issue.record("the CPU backend claims TF32")
            return
        }
        #expect(reason.contains("NVIDIA GPU"))
        #expect(device.matmulPrecision == .fp32)
    }
}
