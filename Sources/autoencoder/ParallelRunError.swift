import AutoencoderKit

/// Options a data-parallel run (`mpirun -np N autoencoder train`) cannot take. Every rank checks the same options
/// and meets the same error, so rank 0 alone prints it (see ``TrainingRanks/fail(_:sameOnEveryRank:)``).
enum ParallelRunError: UsageFailure {
    /// The global batch does not split evenly over the ranks.
    case batchNotDivisible(batchSize: Int, ranks: Int)
    /// A command or option that trains one model per process is not parallelized.
    case unsupported(String, ranks: Int)
    /// The checkpoint to resume was written by a job of another number of ranks.
    case ranksDiffer(checkpoint: String, written: Int, now: Int)

    var description: String {
        switch self {
        case .batchNotDivisible(let batchSize, let ranks):
            return "--batch-size \(batchSize) is the global batch and must divide by the \(ranks) ranks "
                + "(e.g. --batch-size \(max(batchSize / ranks, 1) * ranks))"
        case .unsupported(let what, let ranks):
            return "\(what) is not supported under mpirun (\(ranks) ranks): run it without mpirun"
        case .ranksDiffer(let checkpoint, let written, let now):
            return "\(checkpoint) was written by \(Self.ranks(written)) and this job has \(now): "
                + "resume it with mpirun -np \(written)\(written == 1 ? " or without mpirun" : "")"
        }
    }

    private static func ranks(_ count: Int) -> String {
        count == 1 ? "a single process" : "\(count) ranks"
    }
}
