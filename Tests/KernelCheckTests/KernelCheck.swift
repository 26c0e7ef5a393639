@testable import Compute
import Foundation
import Testing
import TestSupport

/// The CPU backend and the first OpenCL device, opened with one tiling preset at its real work-group sizes, to run
/// the same work on both and compare: the harness of the kernel check (`Tests/KernelCheckTests/README.md`).
///
/// On Oclgrind (`.ci/run`'s simulated step) every comparison also reads the simulator's log, so a data race, an
/// out-of-bounds access, barrier divergence or an API error in the launches it made fails that comparison by name.
final class KernelCheck {
    /// The presets a GPU uses: `nvidia` on NVIDIA's OpenCL, `gpu` on every other GPU.
    static let presets = ["nvidia", "gpu"]

    let preset: String
    let cpu = CPUDevice()
    let gpu: OpenCLDevice
    /// Inputs, drawn from a fixed seed so a failure reproduces.
    var random = TestRandom(seed: 26)

    /// Opens OpenCL device 0 with the GEMM and convolution tiles of `preset`.
    init(preset: String) throws {
        let gemm = try #require(GEMMTiling.presets[preset]), conv = try #require(ConvTiling.presets[preset])
        self.preset = preset
        gpu = try OpenCLDevice(index: 0, gemmTiling: gemm, convTiling: conv)
    }

    /// Whether the OpenCL device is Oclgrind's simulator.
    var isSimulator: Bool { gpu.info.name.contains("Oclgrind") }

    /// Runs `work` on the CPU backend and on the OpenCL device and compares every array it returns, element by
    /// element (|a − e| ≤ atol + rtol·|e|); then expects no simulator report from what the OpenCL device ran.
    func compare(_ what: String, rtol: Double = 1e-4, atol: Double = 1e-5,
                 _ work: (any Device) throws -> [[Float]]) throws {
        let inputs = random
        let expected = try work(cpu)
        random = inputs   // draws inside `work` give both devices the same values
        let actual = try work(gpu)
        try gpu.checkHealth()
        #expect(actual.count == expected.count, "\(preset) \(what)")
        for (index, (result, reference)) in zip(actual, expected).enumerated() {
            if let failure = mismatch(result, doubles(reference), rtol: rtol, atol: atol) {
                Issue.record("\(preset) \(what), output \(index): \(failure)")
            }
        }
        expectNoReports(what)
    }

    /// Records an issue naming `what` when the simulator logged anything since the last check.
    func expectNoReports(_ what: String) {
        guard let reports = SimulatorLog.shared?.newReports(), !reports.isEmpty else { return }
        Issue.record("\(preset) \(what): Oclgrind reported\n\(reports.prefix(6000))")
    }

    /// `count` uniform draws in [low, high).
    func values(_ count: Int, _ low: Float = -1, _ high: Float = 1) -> [Float] { random.array(count, low, high) }
}

/// Fixed values around each view, so a kernel's offsets are exercised and a write outside the view shows as a
/// difference from the CPU backend, which leaves them alone.
let padding: Float = 7

extension DeviceCore {
    /// `values` in a buffer of their own between two padding elements: the view of the values.
    func view(_ values: [Float]) throws -> BufferSlice {
        try makeBuffer([padding] + values + [padding]).slice(1, values.count)
    }

    /// `values` as `int32` between two padding elements.
    func view(_ values: [Int32]) throws -> BufferSlice {
        try makeBuffer([-1] + values + [-1]).slice(1, values.count)
    }

    /// The whole buffer of a view, padding included.
    func readAll(_ view: BufferSlice) -> [Float] { read(view.buffer.whole) }
}
