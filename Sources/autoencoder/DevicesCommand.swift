import ArgumentParser
import Foundation
import AutoencoderKit

/// `autoencoder devices`: what the program can run on, and what `auto` picks.
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List the CPU backend and every OpenCL device, and say which one `auto` uses.")

    @Flag(name: .long, help: "Also open each OpenCL device and print what its driver reports for each kernel (registers, spills, local memory: NVIDIA's OpenCL does, under -cl-nv-verbose).")
    var verbose = false

    func run() throws {
        let choice = Devices.automaticChoice()
        for info in Devices.available() {
            let memory = String(format: "%.1f GiB", Double(info.memoryBytes) / Double(1 << 30))
            let marker = info.selector == choice.description ? "  <- auto" : ""
            print("\(info.selector.padding(toLength: 10, withPad: " ", startingAt: 0)) \(info.name)\(marker)")
            print("           vendor: \(info.vendor); driver: \(info.driver); compute units: \(info.computeUnits); memory: \(memory)")
            if verbose, let index = info.index { try printDriverResources(index: index) }
        }
        if let problem = Devices.openCLProblem {
            print("no OpenCL devices: \(problem)")
        }
    }

    /// The kernels' resources as device `opencl:index`'s driver reported them when it built them.
    private func printDriverResources(index: Int) throws {
        guard let device = try Devices.open(.opencl(index: index)) as? OpenCLDevice else { return }
        let kernels = device.driverKernelResources
        if kernels.isEmpty {
            print("           kernels: the driver reports no per-kernel resources")
        }
        for kernel in kernels { print("           \(kernel.summary)") }
    }
}
