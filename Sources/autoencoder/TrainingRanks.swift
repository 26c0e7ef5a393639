import AutoencoderKit
import Foundation

/// The processes of one `autoencoder train` (or `sweep`): one alone, or the N ranks an MPI launcher started
/// (`mpirun -np N autoencoder train …`).
///
/// Rank 0 owns the files and the terminal: it alone creates the run folder, writes every file of the run and
/// prints progress; the other ranks print only errors, prefixed `rank R: `. Started alone, the tool gets
/// ``SingleProcess`` and behaves exactly as it did before data-parallel training existed.
struct TrainingRanks {
    /// The job's communicator: ``SingleProcess``, Open MPI for one rank, or Open MPI behind a
    /// ``CollectiveWatchdog`` for several.
    let communicator: any Communicator

    /// Whether this process writes the run's files and prints its progress (rank 0).
    var ownsFiles: Bool { communicator.isRoot }
    /// Whether other processes train with this one.
    var isParallel: Bool { communicator.size > 1 }

    /// Joins the job the launcher started, if any, and runs `body` with it; then leaves the job.
    ///
    /// With several ranks an error thrown by `body` does not return: ``fail(_:)`` ends the job. Alone (or as
    /// the one rank of `mpirun -np 1`) the error is thrown on, after leaving the job, for the tool to report.
    static func run(_ body: (TrainingRanks) throws -> Void) throws {
        let joined = try Communicators.fromEnvironment()
        let ranks: TrainingRanks
        do {
            ranks = TrainingRanks(communicator: joined.size > 1
                                  ? CollectiveWatchdog(joined, timeout: try CollectiveWatchdog.timeout()) : joined)
        } catch {
            TrainingRanks(communicator: joined).fail(error, sameOnEveryRank: true)
        }
        do {
            try body(ranks)
        } catch {
            if ranks.isParallel { ranks.fail(error) }
            try? ranks.communicator.finalize()
            throw error
        }
        try ranks.communicator.finalize()
    }

    /// The batch each rank's model is built for: the global `batchSize` over the ranks.
    ///
    /// - Throws: ``ParallelRunError/batchNotDivisible(batchSize:ranks:)``.
    func localBatch(_ batchSize: Int) throws -> Int {
        guard batchSize % communicator.size == 0 else {
            throw ParallelRunError.batchNotDivisible(batchSize: batchSize, ranks: communicator.size)
        }
        return batchSize / communicator.size
    }

    /// Ends the whole job on `error` (with several ranks).
    ///
    /// An error that every rank meets alike (``ParallelRunError``, and the agreed stop of an interrupt) is printed
    /// by rank 0 only, and every rank leaves the job and exits with its code. Any other error may be this rank's
    /// alone while the others wait in a collective: the rank prints its line (`rank R: ` first unless it is rank 0)
    /// and aborts the job (`MPI_Abort`), which ends every rank within seconds; rank 0's files were written
    /// atomically, so its last complete checkpoint stays intact.
    func fail(_ error: any Error, sameOnEveryRank: Bool? = nil) -> Never {
        let failure = error as? any ToolFailure
        let code = failure?.exitCode ?? 1
        let line = (failure?.isNote == true ? "" : "error: ") + (failure?.description ?? String(describing: error))
        let shared = sameOnEveryRank ?? (error is ParallelRunError || failure?.isNote == true)
        if shared {
            if ownsFiles { Terminal.note(line) }
            try? communicator.finalize()
            exit(code)
        }
        Terminal.note(ownsFiles ? line : "rank \(communicator.rank): " + line)
        communicator.abort(code: code)
    }
}
