import Foundation
import Testing
import TestSupport

/// Runs the built `autoencoder-bench allreduce` alone and under Open MPI's `mpirun`, each run under `timeout 60`.
@Suite(.enabled(if: MPILaunch.runs, Comment(rawValue: MPILaunch.missing))) struct MPIRunTests {
    /// The built benchmark, found next to the test products.
    static let bench = ProductRun.executable(named: "autoencoder-bench")

    /// Runs `arguments` under `timeout 60`, with the launcher's variables of this process removed and `extra` added.
    static func run(_ arguments: [String], extra: [String: String] = [:]) throws -> ProductRun {
        try MPILaunch.run(arguments, extra: extra)
    }

    /// Two ranks sum exactly, and rank 0 alone prints the line.
    @Test func twoRanksAllReduce() throws {
        let mpirun = try MPILaunch.required()
        let result = try Self.run([mpirun, "-np", "2", "--oversubscribe", Self.bench.path, "allreduce", "--count", "1000",
                                   "--repeats", "3"])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("allreduce:") }
        #expect(lines.count == 1, "\(result.stdout)")
        #expect(lines.first?.hasPrefix("allreduce: 2 ranks, 1000 floats, 4000 bytes, median ") == true, "\(result.stdout)")
    }

    /// One rank under mpirun joins MPI and runs like the process alone.
    @Test func oneRankUnderMPIRun() throws {
        let mpirun = try MPILaunch.required()
        let result = try Self.run([mpirun, "-np", "1", Self.bench.path, "allreduce", "--count", "1000", "--repeats", "2"])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("allreduce: 1 rank, 1000 floats"), "\(result.stdout)")
    }

    /// Without mpirun the benchmark runs alone, whether or not Open MPI is installed.
    @Test func withoutMPIRunItRunsAlone() throws {
        let result = try Self.run([Self.bench.path, "allreduce", "--count", "1000", "--repeats", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("allreduce: 1 rank, 1000 floats, 4000 bytes"), "\(result.stdout)")
    }

    /// Launched, as the environment says, but libmpi is missing: one line on stderr and a non-zero exit.
    @Test func aMissingLibraryEndsWithOneLine() throws {
        let result = try Self.run([Self.bench.path, "allreduce", "--count", "10"],
                                  extra: ["OMPI_COMM_WORLD_SIZE": "2", "AUTOENCODERKIT_MPI_LIBRARY": "/nonexistent/libmpi.so.40"])
        #expect(result.status != 0 && result.status != 124)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(result.stderr.contains("Open MPI could not be loaded") && result.stderr.contains("/nonexistent/libmpi.so.40"),
                "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }
}
