import ArgumentParser
import AutoencoderKit

/// `--device` and `--precision`, shared by every command that computes.
struct DeviceOptions: ParsableArguments {
    @Option(help: "cpu, opencl (opencl:0), opencl:N, gpu (the first OpenCL GPU; an error without one) or auto (the first OpenCL GPU, else the CPU); default $AUTOENCODERKIT_DEVICE or auto.",
            transform: DeviceSelection.init(parsing:))
    var device: DeviceSelection?
    @Option(help: .choice("Matrix products: fp32, or tf32 (NVIDIA tensor cores through OpenCL; where unavailable, a warning and fp32).",
                          of: MatmulPrecision.self, default: .fp32),
            transform: MatmulPrecision.choice(of: "--precision"))
    var precision: MatmulPrecision = .fp32

    /// Opens the chosen device; `auto` falls back to the CPU with a warning when the OpenCL device fails.
    /// With `--precision tf32` it switches the device's products to TF32, or warns in one line why it cannot.
    func open() throws -> any Device {
        let selection = try device ?? DeviceSelection.fromEnvironment()
        let opened = try Devices.open(selection, warn: Terminal.note)
        if precision == .tf32, case .unavailable(let reason) = opened.enableTF32() {
            Terminal.note("warning: --precision tf32 unavailable (\(reason)); using fp32")
        }
        return opened
    }
}
