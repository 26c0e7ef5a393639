import ArgumentParser
import AutoencoderKit

/// `--device` and `--precision`, shared by every command that computes.
struct DeviceOptions: ParsableArguments {
    @Option(help: "cpu, opencl (opencl:0), opencl:N, gpu (the first OpenCL GPU; an error without one) or auto (the first OpenCL GPU, else the CPU); default $AUTOENCODERKIT_DEVICE or auto. Under mpirun, opencl, gpu and auto take device number local-rank of the node.",
            transform: DeviceChoice.init(parsing:))
    var device: DeviceChoice?
    @Option(help: .choice("Matrix products: fp32, or tf32 (NVIDIA tensor cores through OpenCL; where unavailable, a warning and fp32).",
                          of: MatmulPrecision.self, default: .fp32),
            transform: MatmulPrecision.choice(of: "--precision"))
    var precision: MatmulPrecision = .fp32

    /// Opens the chosen device; `auto` falls back to the CPU with a warning when the OpenCL device fails.
    /// With `--precision tf32` it switches the device's products to TF32, or warns in one line why it cannot.
    func open() throws -> any Device {
        try open(try device?.selection ?? DeviceSelection.fromEnvironment())
    }

    /// Opens the device of a rank of a data-parallel job: the one ``DeviceChoice/selection(localRank:devices:)``
    /// gives local rank `localRank` of its node.
    func open(localRank: Int) throws -> any Device {
        let choice = try device ?? DeviceChoice.fromEnvironment()
        return try open(choice.selection(localRank: localRank, devices: Devices.available()))
    }

    private func open(_ selection: DeviceSelection) throws -> any Device {
        let opened = try Devices.open(selection, warn: Terminal.note)
        if precision == .tf32, case .unavailable(let reason) = opened.enableTF32() {
            Terminal.note("warning: --precision tf32 unavailable (\(reason)); using fp32")
        }
        return opened
    }
}
