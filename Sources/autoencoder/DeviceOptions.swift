import ArgumentParser
import AutoencoderKit

/// `--device`, shared by every command that computes.
struct DeviceOptions: ParsableArguments {
    @Option(help: "cpu, opencl, opencl:N or auto (the first OpenCL GPU, else the CPU); default $AUTOENCODERKIT_DEVICE or auto.")
    var device: String?

    /// Opens the chosen device; `auto` falls back to the CPU with a warning when the OpenCL device fails.
    func open() throws -> any Device {
        let selection = try device.map(DeviceSelection.init(parsing:)) ?? DeviceSelection.fromEnvironment()
        return try Devices.open(selection, warn: Terminal.note)
    }
}
