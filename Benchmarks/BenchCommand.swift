import ArgumentParser
import AutoencoderKit
import Foundation

/// The `autoencoder-bench` tool: primitive timings and training-epoch timings on any device.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "autoencoder-bench",
        abstract: "Time the compute primitives and training epochs of AutoencoderKit on the CPU backend or OpenCL.",
        subcommands: [KernelsCommand.self, EpochCommand.self, AllCommand.self, PTXCheckCommand.self,
                      AllReduceCommand.self, ScalingCommand.self])
}

/// `kernels`: the primitive suite.
struct KernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Check each primitive against the CPU backend, then time it (median of 7 samples).")

    @Option(name: .long, help: "Device (cpu, opencl:N); repeat for several. Default: cpu and every OpenCL device.")
    var device: [String] = []
    @Flag(name: .long, help: "Also run 4096³ GEMM on devices that are not OpenCL GPUs.")
    var large = false
    @Option(name: .long, help: "fp32, or tf32: also time every product at TF32 on each OpenCL device that has it.")
    var precision: MatmulPrecision = .fp32
    @Option(name: .long, help: "Only the kernels whose name starts with this (gemm, conv, ...).")
    var only: String?
    @Flag(name: .long, help: "One JSON object per line instead of a markdown table.")
    var json = false

    func validate() throws {
        if let only, !KernelCase.suite.contains(where: { $0.name.hasPrefix(only) }) {
            let families = KernelCase.suite.compactMap { $0.name.split(separator: " ").first.map(String.init) }
            let known = families.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            throw ValidationError("--only \(only) names no kernel (names start with \(known.joined(separator: ", ")))")
        }
    }

    func run() throws {
        let devices = try openDevices(device)
        let records = try runKernelBenchmarks(devices: devices, large: large, precision: precision,
                                              only: only) { record in
            if json { print(record.jsonLine) }
        }
        if !json { printTable(records, columns: kernelColumns) }
        let reported = driverResourceRecords(devices)
        if json {
            reported.forEach { print($0.jsonLine) }
        } else if !reported.isEmpty {
            print("\nWhat each driver's assembler reported when it built the kernels:\n")
            printTable(reported, columns: driverResourceColumns)
        }
    }
}

/// One record per kernel that an OpenCL device's driver reported resources for (NVIDIA's OpenCL, under
/// `-cl-nv-verbose`): registers, spills, stack and local memory, beside what `autoencoder-bench ptxas` predicts.
func driverResourceRecords(_ devices: [any Device]) -> [BenchRecord] {
    devices.compactMap { $0 as? OpenCLDevice }.flatMap { device in
        device.driverKernelResources.map { kernel in
            var record = BenchRecord()
            record["device"] = .text(device.info.description)
            record["driver_kernel"] = .text(kernel.kernel)
            record["registers"] = .integer(kernel.registers)
            record["spill_stores"] = .integer(kernel.spillStores)
            record["spill_loads"] = .integer(kernel.spillLoads)
            record["stack_bytes"] = .integer(kernel.stackFrame)
            record["local_bytes"] = .integer(kernel.sharedMemory)
            return record
        }
    }
}

let driverResourceColumns = [("device", "device"), ("driver_kernel", "kernel"), ("registers", "registers"),
                             ("spill_stores", "spill stores"), ("spill_loads", "spill loads"), ("stack_bytes", "stack"),
                             ("local_bytes", "local bytes")].map { (key: $0.0, title: $0.1) }

/// `epoch`: one workload's training epochs.
struct EpochCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "epoch",
        abstract: "Train a workload on 60,000 synthetic samples (uniform in [0, 1]) after a 20-step warm-up; time each epoch.")

    @Option(name: .long, help: "mlp-vae, conv-vae, vq-vae or cae.")
    var workload: Workload
    @Option(name: .long, help: "Samples per step.")
    var batchSize = 128
    @Option(name: .long, help: "cpu or opencl:N.")
    var device = "cpu"
    @Option(name: .long, help: "Timed epochs.")
    var epochs = 1
    @Option(name: .long, help: "Matrix products: fp32, or tf32 (fails when the device cannot).")
    var precision: MatmulPrecision = .fp32
    @Flag(name: .long, help: "Epochs of 6,000 samples; seconds per epoch scaled ×10.")
    var quick = false
    @Flag(name: .long, help: "One JSON object per line instead of a markdown table.")
    var json = false

    func validate() throws {
        guard batchSize > 0, batchSize <= 6_000 else { throw ValidationError("--batch-size must lie in 1...6000") }
        guard epochs > 0 else { throw ValidationError("--epochs must be positive") }
    }

    func run() throws {
        let target = try Devices.open(DeviceSelection(parsing: device))
        if precision == .tf32, case .unavailable(let reason) = target.enableTF32() {
            throw ValidationError("--precision tf32: \(reason)")
        }
        let benchmark = EpochBenchmark(workload: workload, batchSize: batchSize,
                                       samples: quick ? 6_000 : 60_000)
        let records = try benchmark.run(on: target, epochs: epochs)
        if json {
            records.forEach { print($0.jsonLine) }
        } else {
            printTable(records, columns: epochColumns)
        }
    }
}

/// `all`: the kernel suite, then every workload at batch 128 (and the MLP VAE at 1024) on each device.
struct AllCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "all",
        abstract: "Kernels, then one epoch of every workload on every device.")

    @Option(name: .long, help: "Device (cpu, opencl:N); repeat for several. Default: cpu and every OpenCL device.")
    var device: [String] = []
    @Flag(name: .long, help: "Epochs of 6,000 samples; seconds per epoch scaled ×10.")
    var quick = false
    @Flag(name: .long, help: "Also run 4096³ GEMM on devices that are not OpenCL GPUs.")
    var large = false
    @Flag(name: .long, help: "One JSON object per line instead of markdown tables.")
    var json = false

    func run() throws {
        let devices = try openDevices(device)
        let kernels = try runKernelBenchmarks(devices: devices, large: large) { record in
            if json { print(record.jsonLine) }
        }
        if !json {
            printTable(kernels, columns: kernelColumns)
            print()
        }
        let runs: [(Workload, Int)] = [(.mlpVAE, 128), (.mlpVAE, 1024), (.convVAE, 128), (.vqVAE, 128), (.cae, 128)]
        var epochs: [BenchRecord] = []
        for device in devices {
            for (workload, batchSize) in runs {
                let benchmark = EpochBenchmark(workload: workload, batchSize: batchSize, samples: quick ? 6_000 : 60_000)
                let records = try benchmark.run(on: device, epochs: 1)
                if json { records.forEach { print($0.jsonLine) } }
                epochs += records
            }
        }
        if !json { printTable(epochs, columns: epochColumns) }
    }
}

extension Workload: ExpressibleByArgument {}
extension MatmulPrecision: ExpressibleByArgument {}
