import Foundation

/// Picks the communicator of the running process.
public enum Communicators {
    /// The environment variables an MPI launcher sets, in the order they are looked for: Open MPI's `mpirun`,
    /// a PMIx launcher (Slurm's `srun --mpi=pmix`), a PMI-1/2 launcher.
    public static let launcherVariables = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"]
    /// The libmpi names tried by default: Open MPI 4 and 5's soname, then the development link.
    public static let defaultLibraryNames = ["libmpi.so.40", "libmpi.so"]
    /// An environment variable naming the one libmpi to open instead of the default names.
    public static let libraryVariable = "AUTOENCODERKIT_MPI_LIBRARY"

    /// The communicator for this process: Open MPI when a launcher started it, otherwise ``SingleProcess``.
    ///
    /// MPI is initialized only when one of ``launcherVariables`` is set, never for a process started alone.
    /// The local rank comes from `OMPI_COMM_WORLD_LOCAL_RANK`, else `MPI_LOCALRANKID`, else the rank.
    ///
    /// - Parameters:
    ///   - environment: the process environment (injectable for tests).
    ///   - libraryNames: the libmpi names or paths to try; `nil` means the library named by
    ///     ``libraryVariable`` if set, else ``defaultLibraryNames``.
    /// - Throws: ``CommunicatorError/libraryUnavailable(variable:tried:reason:)`` when launched but no libmpi
    ///   loads, or the error of the first MPI call that fails.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment,
                                       libraryNames: [String]? = nil) throws -> any Communicator {
        guard let variable = launcherVariables.first(where: { environment[$0] != nil }) else { return SingleProcess() }
        let names = libraryNames ?? environment[libraryVariable].flatMap { $0.isEmpty ? nil : [$0] } ?? defaultLibraryNames
        let localRank = ["OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID"].lazy.compactMap { environment[$0].flatMap { Int($0) } }.first
        return try OpenMPICommunicator(libraryNames: names, launcherVariable: variable, localRank: localRank)
    }
}
