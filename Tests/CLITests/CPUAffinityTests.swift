import Foundation
import Testing
import TestSupport

/// The CPU backend's thread count follows the process's CPU affinity (as `mpirun` binds each rank to its cores),
/// not the processors of the machine: `devices` reports it as the CPU's compute units.
@Suite struct CPUAffinityTests {
    /// `taskset`, where util-linux is installed.
    static let taskset = ["/usr/bin/taskset", "/bin/taskset"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// The CPU's compute units that `autoencoder devices` prints, run through `prefix` (a `taskset` command line).
    static func cpuComputeUnits(_ prefix: [String]) throws -> Int? {
        // AUTOENCODERKIT_THREADS would override the count under test
        let environment = ProcessInfo.processInfo.environment.filter { $0.key != "AUTOENCODERKIT_THREADS" }
        let command = prefix + [CLIRunner.executable.path, "devices"]
        let result = try ProductRun.run(URL(fileURLWithPath: command[0]), Array(command.dropFirst()), environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        let cpuLines = result.stdout.split(separator: "\n").drop { !$0.hasPrefix("cpu ") }.dropFirst().prefix(1)
        return cpuLines.first.flatMap { line in
            line.range(of: "compute units: ").flatMap { Int(line[$0.upperBound...].prefix { $0.isNumber }) }
        }
    }

    /// Pinned to one processor, the backend runs one thread; unpinned it runs one per allowed processor.
    @Test func theThreadCountFollowsTheAffinityMask() throws {
        guard let taskset = Self.taskset else {
            print("CPUAffinityTests: skipped, taskset is not installed (util-linux)")
            return
        }
        #expect(try Self.cpuComputeUnits([taskset, "-c", "0"]) == 1)
        let allowed = try ProductRun.run(URL(fileURLWithPath: "/usr/bin/env"), ["nproc"], environment: [:])
        guard let processors = Int(allowed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), processors >= 2 else {
            print("CPUAffinityTests: the two-processor case skipped, this process may run on one processor only")
            return
        }
        #expect(try Self.cpuComputeUnits([taskset, "-c", "0,1"]) == 2)
    }
}
