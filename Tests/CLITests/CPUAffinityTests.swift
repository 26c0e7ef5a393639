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

    /// Whether the tests run: where `taskset` is installed, and in CI (`CI=true`), where its absence fails them.
    static let runs = taskset != nil || ProcessInfo.processInfo.environment["CI"] == "true"

    /// The processors this process may run on (`nproc`, which follows the affinity mask; 0 when it cannot tell).
    static let allowedProcessors: Int = {
        let allowed = try? ProductRun.run(URL(fileURLWithPath: "/usr/bin/env"), ["nproc"], environment: [:])
        return allowed.flatMap { Int($0.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
    }()

    /// `taskset`, or an error saying it is missing.
    static func requiredTaskset() throws -> String {
        try #require(taskset, "taskset is not installed (util-linux)")
    }

    /// Pinned to one processor, the backend runs one thread.
    @Test(.enabled(if: runs, "taskset is not installed (util-linux)"))
    func pinnedToOneProcessorItRunsOneThread() throws {
        #expect(try Self.cpuComputeUnits([try Self.requiredTaskset(), "-c", "0"]) == 1)
    }

    /// Allowed two processors, it runs one thread on each.
    @Test(.enabled(if: runs && allowedProcessors >= 2, "this process may run on one processor only"))
    func allowedTwoProcessorsItRunsTwoThreads() throws {
        #expect(try Self.cpuComputeUnits([try Self.requiredTaskset(), "-c", "0,1"]) == 2)
    }
}
