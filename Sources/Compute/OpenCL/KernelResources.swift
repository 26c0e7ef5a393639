import Foundation

/// What NVIDIA's assembler reports for one kernel: registers per work item, spills, stack frame and `__local`
/// (shared) memory. Read from `ptxas -v` output, which is also what NVIDIA's OpenCL driver writes into a build log
/// under `-cl-nv-verbose`.
public struct KernelResources: Equatable, Sendable {
    /// The kernel's name.
    public var kernel: String
    /// The architecture it was assembled for (`sm_90`), or empty when the log does not say.
    public var architecture: String
    /// Registers per work item.
    public var registers: Int
    /// Bytes of spill stores and spill loads (register values moved to local memory).
    public var spillStores: Int, spillLoads: Int
    /// Bytes of stack frame per work item (private arrays the compiler could not keep in registers, and spills).
    public var stackFrame: Int
    /// Bytes of `__local` memory per work group.
    public var sharedMemory: Int

    /// Every kernel that `log` (the standard error of `ptxas -v`, or an NVIDIA build log) describes, in order.
    /// A kernel appears once its `Used N registers` line has been read.
    public static func parse(ptxasLog log: String) -> [KernelResources] {
        var found: [KernelResources] = []
        var current = KernelResources(kernel: "", architecture: "", registers: 0, spillStores: 0, spillLoads: 0,
                                      stackFrame: 0, sharedMemory: 0)
        for line in log.split(whereSeparator: \.isNewline).map(String.init) {
            if line.contains("Compiling entry function"), let name = quoted(line, at: 0) {
                current = KernelResources(kernel: name, architecture: quoted(line, at: 1) ?? "", registers: 0,
                                          spillStores: 0, spillLoads: 0, stackFrame: 0, sharedMemory: 0)
            } else if line.contains("Function properties for"), current.kernel.isEmpty,
                      let name = line.components(separatedBy: "Function properties for").last?
                        .trimmingCharacters(in: .whitespaces) {
                current.kernel = name
            } else if line.contains("stack frame") {
                current.stackFrame = number(before: "bytes stack frame", in: line) ?? 0
                current.spillStores = number(before: "bytes spill stores", in: line) ?? 0
                current.spillLoads = number(before: "bytes spill loads", in: line) ?? 0
            } else if line.contains("Used"), let registers = number(before: "registers", in: line) {
                current.registers = registers
                current.sharedMemory = number(before: "bytes smem", in: line) ?? 0
                if !current.kernel.isEmpty { found.append(current) }
                current = KernelResources(kernel: "", architecture: current.architecture, registers: 0, spillStores: 0,
                                          spillLoads: 0, stackFrame: 0, sharedMemory: 0)
            }
        }
        return found
    }

    /// The integer just before `unit` in `line` (`"6400 bytes smem"` → 6400).
    private static func number(before unit: String, in line: String) -> Int? {
        guard let range = line.range(of: unit) else { return nil }
        let head = line[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
        return head.split(whereSeparator: { !$0.isNumber }).last.flatMap { Int($0) }
    }

    /// The `index`-th string in single quotes on `line`.
    private static func quoted(_ line: String, at index: Int) -> String? {
        let parts = line.split(separator: "'", omittingEmptySubsequences: false)
        let position = 2 * index + 1
        return parts.count > position + 1 ? String(parts[position]) : nil
    }

    /// Work groups of `workItems` work items that fit on one streaming multiprocessor of compute capability 8.0
    /// or 9.0 at once: limited by its 65,536 registers (allocated per warp in units of 256), its 64 warps and
    /// 32 groups, and its shared memory (`sharedPerSM` bytes, 1 KiB of it reserved per group).
    public func groupsPerSM(workItems: Int, sharedPerSM: Int) -> Int {
        let warps = (workItems + 31) / 32
        let registersPerWarp = (max(registers, 1) * 32 + 255) / 256 * 256
        let byRegisters = (65_536 / registersPerWarp) / warps
        let byShared = sharedMemory == 0 ? Int.max : sharedPerSM / ((sharedMemory + 127) / 128 * 128 + 1024)
        return min(byRegisters, 64 / warps, 32, byShared)
    }

    /// One line: `gemm_blocked: 105 registers, spills 0/0 bytes, stack 0 bytes, 6400 bytes local`.
    public var summary: String {
        "\(kernel): \(registers) registers, spills \(spillStores)/\(spillLoads) bytes, stack \(stackFrame) bytes, "
            + "\(sharedMemory) bytes local"
    }

    /// Shared memory of one SM that work groups can use: 164 KiB on sm_80 (A100), 228 KiB on sm_90 (H100).
    public static func sharedMemoryPerSM(architecture: String) -> Int {
        architecture == "sm_80" ? 164 * 1024 : 228 * 1024
    }
}
