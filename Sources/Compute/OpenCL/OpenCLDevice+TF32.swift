import COpenCL
import Foundation
import Kernels

/// The TF32 state of one OpenCL device: the probe's outcome (once known) and whether products use it.
final class TF32Switch {
    /// How the `gemm_tf32` family was built.
    enum Variant: Equatable {
        /// Inline PTX `mma.sync` on NVIDIA tensor cores (`-DAEK_MMA_PTX`).
        case tensorCores
        /// The same fragments multiplied through local memory: runs on any OpenCL device (testing).
        case emulated
    }

    private let lock = NSLock()
    /// Serializes probes, so two threads asking at once run one probe.
    let probing = NSLock()
    private var outcomeValue: (variant: Variant, availability: TF32Availability)?
    private var enabledValue = false

    /// The probe's outcome, nil before the first request.
    var outcome: (variant: Variant, availability: TF32Availability)? {
        get { lock.withLock { outcomeValue } }
        set { lock.withLock { outcomeValue = newValue } }
    }

    /// True while products run at TF32.
    var enabled: Bool {
        get { lock.withLock { enabledValue } }
        set { lock.withLock { enabledValue = newValue } }
    }
}

/// TF32 products on NVIDIA tensor cores through inline PTX (`Kernels/gemm_tf32.cl`).
///
/// Dispatch rule: while TF32 is on, ``gemm(_:transposeA:_:transposeB:into:m:n:k:alpha:beta:bias:activation:)``
/// runs every product of at least ``tf32MinimumWork`` multiply-adds (m·n·k ≥ 64³) on the TF32 kernel; smaller
/// ones, where a 128×64 block tile would mostly idle, stay FP32.
extension OpenCLDevice: PrecisionPrimitives {
    /// The smallest m·n·k sent to the TF32 kernel.
    static let tf32MinimumWork = 64 * 64 * 64
    /// Largest accepted probe error: TF32 rounds each input with relative error ≤ 2⁻¹¹ ≈ 4.9·10⁻⁴.
    static let tf32ProbeTolerance: Float = 5e-3
    /// `AUTOENCODERKIT_TF32_EMULATE=1` makes ``enableTF32()`` use the emulated kernel on any device (testing).
    static let tf32EmulationVariable = "AUTOENCODERKIT_TF32_EMULATE"

    public var matmulPrecision: MatmulPrecision { tf32.enabled ? .tf32 : .fp32 }

    public func enableTF32() -> TF32Availability {
        enableTF32(emulated: ProcessInfo.processInfo.environment[Self.tf32EmulationVariable] == "1")
    }

    public func disableTF32() { tf32.enabled = false }

    /// ``enableTF32()`` with the kernel variant chosen: `emulated` builds the kernel without inline PTX, so
    /// the whole TF32 path (probe, dispatch, kernel) runs on devices without tensor cores, slowly. The first
    /// request on a device decides the variant; later ones repeat its outcome.
    func enableTF32(emulated: Bool) -> TF32Availability {
        tf32.probing.lock()
        defer { tf32.probing.unlock() }
        let availability: TF32Availability
        if let outcome = tf32.outcome {
            availability = outcome.availability
        } else {
            let variant: TF32Switch.Variant = emulated ? .emulated : .tensorCores
            availability = probeTF32(variant)
            tf32.outcome = (variant, availability)
        }
        if availability == .available { tf32.enabled = true }
        return availability
    }

    /// Work items per group of `gemm_tf32`: 8 warps.
    static let tf32Group = 256

    /// The options `gemm_tf32` is built with: `-DAEK_MMA_PTX` selects the inline PTX.
    static func tf32Options(_ variant: TF32Switch.Variant) -> String {
        buildOptions + (variant == .tensorCores ? " -DAEK_MMA_PTX" : "")
    }

    /// Why this device cannot run the PTX variant, or nil when it may (an NVIDIA device of compute
    /// capability 8.0 or newer, or one whose capability the driver does not report).
    private var tensorCoreProblem: String? {
        guard info.isNVIDIA else {
            return "TF32 tensor cores need an NVIDIA GPU; \(info.description) is \(info.vendor)"
        }
        // CL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV / _MINOR_NV (cl_nv_device_attribute_query); 0 when not reported.
        let major: cl_uint = OpenCLRuntime.scalar(device, 0x4000), minor: cl_uint = OpenCLRuntime.scalar(device, 0x4001)
        if major > 0 && major < 8 {
            return "TF32 tensor cores need compute capability 8.0 (Ampere) or newer; \(info.description) is \(major).\(minor)"
        }
        return nil
    }

    /// Builds the variant and checks it on two products against the FP32 kernel.
    private func probeTF32(_ variant: TF32Switch.Variant) -> TF32Availability {
        if variant == .tensorCores, let problem = tensorCoreProblem { return .unavailable(reason: problem) }
        let options = Self.tf32Options(variant)
        do {
            try buildOnRequest(family: "gemm_tf32", source: KernelLibrary.common + "\n" + KernelLibrary.gemmTF32, options: options)
        } catch ComputeError.buildFailed(_, _, let log) {
            let first = log.split(whereSeparator: \.isNewline).first.map(String.init) ?? "no build log"
            return .unavailable(reason: "the TF32 kernel did not build on \(info.description): \(first)")
        } catch {
            return .unavailable(reason: "the TF32 kernel did not build: \(error)")
        }
        do {
            var worst: Float = 0
            for (m, n, k, ta, tb) in [(96, 72, 40, true, true), (96, 72, 40, false, true), (256, 256, 256, false, false)] {
                worst = max(worst, try tf32ProbeError(m: m, n: n, k: k, transposeA: ta, transposeB: tb))
            }
            guard worst <= Self.tf32ProbeTolerance else {
                return .unavailable(reason: "TF32 products on \(info.description) disagree with FP32 (relative error \(worst))")
            }
        } catch {
            return .unavailable(reason: "the TF32 probe failed: \(error)")
        }
        return .available
    }

    /// The largest |TF32 − FP32| / (|FP32| + mean |FP32|) of one product of inputs in [−1, 1]
    /// (infinite when the TF32 result holds a NaN).
    private func tf32ProbeError(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool) throws -> Float {
        var state: UInt32 = 0x9E37_79B9 &+ UInt32(m * n + k)
        func values(_ count: Int) -> [Float] {
            (0..<count).map { _ in
                state = state &* 1_664_525 &+ 1_013_904_223
                return Float(state >> 8) / Float(1 << 23) - 1
            }
        }
        let a = try makeBuffer(values(m * k)), b = try makeBuffer(values(k * n)), bias = try makeBuffer(values(n))
        let exact = try makeBuffer(count: m * n, dtype: .float32), rounded = try makeBuffer(count: m * n, dtype: .float32)
        gemm(a.whole, transposeA: transposeA, b.whole, transposeB: transposeB, into: exact.whole, m: m, n: n, k: k,
             alpha: 1, beta: 0, bias: bias.whole, activation: .identity)
        gemmTF32(a.whole, transposeA: transposeA, b.whole, transposeB: transposeB, into: rounded.whole, m: m, n: n, k: k,
                 alpha: 1, beta: 0, epilogue: ProductEpilogue(bias: bias.whole))
        try checkHealth()
        let reference = read(exact.whole), result = read(rounded.whole)
        let scale = reference.reduce(0) { $0 + abs($1) } / Float(reference.count)
        var worst: Float = 0
        for (x, r) in zip(result, reference) {
            guard !x.isNaN else { return .infinity }
            worst = max(worst, abs(x - r) / (abs(r) + scale))
        }
        return worst
    }

    /// Runs one product on the TF32 kernel (built by ``enableTF32(emulated:)``), whatever the dispatch rule.
    func gemmTF32(_ a: BufferSlice, transposeA: Bool, _ b: BufferSlice, transposeB: Bool, into c: BufferSlice,
                  m: Int, n: Int, k: Int, alpha: Float, beta: Float, epilogue: ProductEpilogue,
                  rowSums: BufferSlice? = nil) {
        precondition(a.count == m * k && b.count == k * n && c.count == m * n, "gemm operand sizes")
        if let bias = epilogue.bias { precondition(bias.count == n, "gemm bias size") }
        // 256 work items (8 warps) per 128×64 block of C
        launch("gemm_tf32", global: [(n + 63) / 64 * Self.tf32Group, (m + 127) / 128], local: [Self.tf32Group, 1],
               productArguments(a, transposeA: transposeA, b, transposeB: transposeB, into: c, m: m, n: n, k: k,
                                alpha: alpha, beta: beta, epilogue: epilogue, rowSums: rowSums))
    }

    /// True when a product of this size goes to the TF32 kernel (TF32 on, m·n·k ≥ ``tf32MinimumWork``).
    func usesTF32(m: Int, n: Int, k: Int) -> Bool {
        m * n * k >= Self.tf32MinimumWork && tf32.enabled
    }

    /// y = the TF32 value of each element of x (what the TF32 kernel rounds its inputs to), on the device.
    func roundToTF32(_ x: BufferSlice, into y: BufferSlice) {
        precondition(x.count == y.count, "tf32 rounding operand sizes")
        launch("tf32_round", global: [x.count], local: [Self.elementGroup], [.buffer(x), .buffer(y), .int(x.count)])
    }
}
