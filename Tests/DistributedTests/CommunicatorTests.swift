import Testing
@testable import Distributed

@Suite struct CommunicatorTests {
    /// Without a launcher's variables the process runs alone, and MPI is never initialized.
    @Test func withoutALauncherTheProcessIsSingle() throws {
        let communicator = try Communicators.fromEnvironment(["PATH": "/usr/bin", "HOME": "/root"])
        #expect(communicator is SingleProcess)
        #expect(communicator.size == 1 && communicator.rank == 0 && communicator.localRank == 0)
        var values: [Float] = [1, 2, 3]
        try communicator.allReduceSum(&values)
        try communicator.broadcast(&values, root: 0)
        #expect(values == [1, 2, 3])
        #expect(throws: CommunicatorError.invalidRoot(1, size: 1)) { try communicator.broadcast(&values, root: 1) }
    }

    /// Launched (by each of the launchers' variables) but with no libmpi to load: one line naming the variable
    /// and the library tried.
    @Test(arguments: Communicators.launcherVariables)
    func aMissingLibraryUnderALauncherIsAClearError(variable: String) throws {
        let missing = "/nonexistent/libmpi.so.40"
        do {
            _ = try Communicators.fromEnvironment([variable: "2"], libraryNames: [missing])
            Issue.record("joined MPI without a library")
        } catch let error as CommunicatorError {
            guard case .libraryUnavailable(let named, let tried, _) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(named == variable && tried == [missing])
            let line = error.description
            #expect(line.contains(variable) && line.contains(missing) && line.contains("run without mpirun"), "\(line)")
            #expect(!line.contains("\n"), "\(line)")
        }
    }

    /// `AUTOENCODERKIT_MPI_LIBRARY` replaces the default library names.
    @Test func theLibraryVariableNamesTheLibrary() throws {
        let missing = "/nonexistent/custom-libmpi.so"
        #expect(throws: CommunicatorError.self) {
            _ = try Communicators.fromEnvironment(["OMPI_COMM_WORLD_SIZE": "2", Communicators.libraryVariable: missing])
        }
        do {
            _ = try Communicators.fromEnvironment(["OMPI_COMM_WORLD_SIZE": "2", Communicators.libraryVariable: missing])
        } catch let error as CommunicatorError {
            #expect(error.description.contains("tried \(missing):"), "\(error)")
        }
    }

    /// Buffers longer than an MPI `int` count are cut into whole, contiguous chunks.
    @Test func longBuffersAreChunked() {
        #expect(OpenMPICommunicator.chunks(5, limit: 2) == [0..<2, 2..<4, 4..<5])
        #expect(OpenMPICommunicator.chunks(4, limit: 2) == [0..<2, 2..<4])
        #expect(OpenMPICommunicator.chunks(0).isEmpty)
        #expect(OpenMPICommunicator.chunks(Int(Int32.max) + 1) == [0..<Int(Int32.max), Int(Int32.max)..<Int(Int32.max) + 1])
    }
}
