import ArgumentParser
import AutoencoderKit
import Foundation

/// `ptxas`: every kernel NVIDIA's OpenCL driver could build, compiled to PTX by clang and assembled by NVIDIA's
/// `ptxas`, with no GPU: registers, spills, stack, `__local` bytes, SASS size and the occupancy they allow at the
/// launched work-group size. Fails on a compile or assembly error, a spill, or a budget missed.
struct PTXCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ptxas",
        abstract: "Assemble every OpenCL kernel for NVIDIA GPUs with clang and ptxas; check spills and budgets.",
        discussion: """
            Each program is built as OpenCLDevice builds it on an NVIDIA GPU (common.cl + the family, its -D macros, \
            every tiling preset of gemm and conv, gemm_tf32 with its inline PTX): clang's OpenCL front end emits PTX \
            for sm_80, which ptxas assembles for each --arch. Budgets, for the default (nvidia) presets: at least \
            \(PTXCheckCommand.minimumGroups) work groups per SM at the launched size for \
            \(PTXCheckCommand.budgeted.joined(separator: ", ")); every kernel's SASS at most \
            \(PTXCheckCommand.maximumSASS / 1024) KiB. Needs clang with the NVPTX back end (Debian's clang-15), \
            libclc's nvptx64--nvidiacl.bc (libclc-15) and ptxas (PyPI's nvidia-cuda-nvcc-cu12).
            """)

    @Option(name: .long, help: "clang with the NVPTX back end.")
    var clang = "clang-15"
    @Option(name: .long, help: "NVIDIA's assembler (default: ptxas on PATH).")
    var ptxas = "ptxas"
    @Option(name: .long, help: "libclc's OpenCL builtins for NVPTX.")
    var libclc = "/usr/lib/clc/nvptx64--nvidiacl.bc"
    @Option(name: .long, help: "Architectures to assemble for; repeat for several.")
    var arch: [String] = ["sm_80", "sm_90"]
    @Option(name: .long, help: "Write the table as markdown to this file too.")
    var markdown: String?

    /// Kernels held to the occupancy budget: the products and convolutions, where a step spends its time.
    static let budgeted = ["gemm_blocked", "gemm_tf32", "conv2d_forward_blocked", "conv2d_backward_input_blocked",
                           "conv2d_backward_weight_blocked"]
    /// Work groups per SM the budgeted kernels must allow.
    static let minimumGroups = 2
    /// Largest SASS of any kernel, in bytes: an epilogue unrolled into every accumulator went past it (553 KiB).
    static let maximumSASS = 128 * 1024

    func run() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("aek-ptxas-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        var rows: [Row] = []
        var problems: [String] = []
        for (index, build) in KernelBuild.nvidia.enumerated() {
            let name = build.variant.isEmpty ? build.family : "\(build.family) (\(build.variant))"
            let source = scratch.appendingPathComponent("\(index).cl"), ptx = scratch.appendingPathComponent("\(index).ptx")
            try build.source.write(to: source, atomically: true, encoding: .utf8)
            let options = build.options.split(separator: " ").map(String.init)
            let compiled = try Tool.run(clang, ["-x", "cl", "-target", "nvptx64-nvidia-nvcl", "-Xclang", "-finclude-default-header",
                                                "-fgnu-keywords", "-Xclang", "-mlink-builtin-bitcode", "-Xclang", libclc,
                                                "-Wno-linker-warnings", "-march=sm_80", "-O3", "-S"]
                                               + options + ["-o", ptx.path, source.path])
            guard compiled.status == 0 else {
                problems.append("\(name): clang failed: \(compiled.firstLine)")
                continue
            }
            for arch in arch {
                let cubin = scratch.appendingPathComponent("\(index)-\(arch).cubin")
                let assembled = try Tool.run(ptxas, ["-arch=\(arch)", "-v", "-o", cubin.path, ptx.path])
                guard assembled.status == 0 else {
                    problems.append("\(name) \(arch): ptxas failed: \(assembled.firstLine)")
                    continue
                }
                let sizes = try SASSSizes(cubin: Data(contentsOf: cubin))
                let reports = KernelResources.parse(ptxasLog: assembled.output)
                for kernel in build.kernels {
                    guard let report = reports.first(where: { $0.kernel == kernel }) else {
                        problems.append("\(name) \(arch): ptxas reported nothing for \(kernel)")
                        continue
                    }
                    let row = Row(program: name, isDefault: build.isDefault, arch: arch, resources: report,
                                  workGroup: build.workGroups[kernel], sass: sizes.bytes[kernel] ?? 0)
                    problems += row.problems
                    rows.append(row)
                }
            }
        }
        let table = Row.table(rows)
        print(table, terminator: "")
        if let markdown { try table.write(toFile: markdown, atomically: true, encoding: .utf8) }
        guard problems.isEmpty else {
            fflush(stdout)
            problems.forEach { FileHandle.standardError.write(Data("ptxas check: \($0)\n".utf8)) }
            throw ExitCode.failure
        }
        print("ptxas check: \(rows.count) kernel builds, no error, no spill, budgets met")
    }

    /// One kernel of one program for one architecture.
    struct Row {
        let program: String
        let isDefault: Bool
        let arch: String
        let resources: KernelResources
        let workGroup: KernelBuild.WorkGroup?
        let sass: Int

        /// Work items per group at launch; a size the driver picks is counted as 256.
        var workItems: Int {
            if case .fixed(let n) = workGroup { return n }
            return 256
        }

        /// Work groups per SM at ``workItems``.
        var groups: Int {
            resources.groupsPerSM(workItems: workItems, sharedPerSM: KernelResources.sharedMemoryPerSM(architecture: arch))
        }

        var problems: [String] {
            let at = "\(program) \(arch) \(resources.kernel)"
            var found: [String] = []
            if workGroup == nil { found.append("\(at): no launched work-group size declared (OpenCLDevice.launchedWorkGroup)") }
            if resources.spillStores > 0 || resources.spillLoads > 0 {
                found.append("\(at): spills \(resources.spillStores) bytes stored, \(resources.spillLoads) loaded")
            }
            if sass > PTXCheckCommand.maximumSASS { found.append("\(at): SASS \(sass / 1024) KiB > \(PTXCheckCommand.maximumSASS / 1024) KiB") }
            if isDefault && PTXCheckCommand.budgeted.contains(resources.kernel) && groups < PTXCheckCommand.minimumGroups {
                found.append("\(at): \(groups) work group(s) per SM at \(resources.registers) registers; the budget is \(PTXCheckCommand.minimumGroups)")
            }
            return found
        }

        static func table(_ rows: [Row]) -> String {
            var lines = ["| program | arch | kernel | work items | registers | spill bytes (st/ld) | stack | local bytes | SASS KiB | groups/SM | occupancy |",
                         "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
            for row in rows {
                let r = row.resources
                let items: String
                switch row.workGroup {
                case .fixed(let n): items = "\(n)"
                case .chosenByDriver: items = "driver"
                case nil: items = "?"
                }
                let occupancy = Int((Double(row.groups * ((row.workItems + 31) / 32)) / 64 * 100).rounded())
                lines.append("| \(row.program) | \(row.arch) | \(r.kernel) | \(items) | \(r.registers) | \(r.spillStores)/\(r.spillLoads) | "
                             + "\(r.stackFrame) | \(r.sharedMemory) | \(String(format: "%.1f", Double(row.sass) / 1024)) | \(row.groups) | \(occupancy)% |")
            }
            return lines.joined(separator: "\n") + "\n"
        }
    }
}

/// A command run to completion, its standard output and error together.
enum Tool {
    struct Result {
        let status: Int32
        let output: String
        var firstLine: String {
            output.split(whereSeparator: \.isNewline).first { $0.contains("error") || $0.contains("fatal") }.map(String.init)
                ?? output.split(whereSeparator: \.isNewline).first.map(String.init) ?? "exit \(status)"
        }
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            throw ValidationError("cannot run \(executable): \(error.localizedDescription)")
        }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus == 127 { throw ValidationError("\(executable): not found (see autoencoder-bench ptxas --help)") }
        return Result(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self))
    }
}

/// The machine-code size of each kernel in a cubin: the size of its ELF section `.text.<kernel>`.
struct SASSSizes {
    let bytes: [String: Int]

    init(cubin data: Data) throws {
        let bytes = [UInt8](data)
        func integer(_ offset: Int, _ width: Int) throws -> Int {
            guard offset >= 0, offset + width <= bytes.count else { throw ValidationError("cubin: truncated ELF") }
            return (0..<width).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
        }
        guard bytes.count > 64, bytes[0] == 0x7F, bytes[1] == 0x45, bytes[4] == 2 else { throw ValidationError("cubin: not a 64-bit ELF") }
        let sectionTable = try integer(0x28, 8), entrySize = try integer(0x3A, 2), count = try integer(0x3C, 2)
        let namesIndex = try integer(0x3E, 2)
        func header(_ i: Int) throws -> (name: Int, offset: Int, size: Int) {
            let at = sectionTable + i * entrySize
            return (try integer(at, 4), try integer(at + 0x18, 8), try integer(at + 0x20, 8))
        }
        let names = try header(namesIndex).offset
        var sizes: [String: Int] = [:]
        for i in 0..<count {
            let section = try header(i)
            var end = names + section.name
            while end < bytes.count, bytes[end] != 0 { end += 1 }
            let name = String(decoding: bytes[(names + section.name)..<end], as: UTF8.self)
            if name.hasPrefix(".text.") { sizes[String(name.dropFirst(6))] = section.size }
        }
        self.bytes = sizes
    }
}
