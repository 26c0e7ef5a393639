import Foundation

/// Open MPI's `mpirun`, for the tests that start jobs of several processes, and how they run commands.
public enum MPILaunch {
    /// `mpirun` on PATH, or nil (the MPI tests are then skipped, outside CI).
    public static let mpirun: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").map { "\($0)/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Why an MPI test did not run.
    public static let missing = "mpirun is not on PATH (install openmpi-bin)"

    /// Whether the MPI tests run (their `.enabled(if:)`): where `mpirun` is found, and in CI (`CI=true`), where its
    /// absence must fail them rather than skip them.
    public static let runs = mpirun != nil || ProcessInfo.processInfo.environment["CI"] == "true"

    /// `mpirun`, or an error saying it is missing (a test that ``runs`` in CI without it fails with this).
    public static func required() throws -> String {
        guard let mpirun else { throw Missing() }
        return mpirun
    }

    /// `mpirun` is not installed.
    public struct Missing: Error, CustomStringConvertible {
        public var description: String { MPILaunch.missing }
    }

    /// Runs `arguments` under `timeout seconds`, with this process's launcher variables removed (a test run
    /// under mpirun must not make its children think they are ranks of it) and `extra` added, in `directory`.
    public static func run(_ arguments: [String], extra: [String: String] = [:], in directory: URL? = nil,
                           seconds: Int = 60) throws -> ProductRun {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMI") }
        // mpirun refuses to run as root without these.
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        for (key, value) in extra { environment[key] = value }
        return try ProductRun.run(URL(fileURLWithPath: "/usr/bin/env"), ["timeout", String(seconds)] + arguments,
                                  environment: environment, in: directory)
    }
}
