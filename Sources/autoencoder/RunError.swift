/// How a training run, or a command writing a file as it goes, ends early.
enum RunError: Error, CustomStringConvertible {
    /// Ctrl-C or SIGTERM stopped training within `epoch` after `step` steps; the run folder can be resumed.
    case interrupted(epoch: Int, step: Int, directory: String)
    /// Ctrl-C or SIGTERM stopped a command before it finished writing `path`, which it left as it was.
    case interruptedWriting(path: String)
    /// A file of the run could not be written (disk full, read-only folder); the files before it are intact.
    case writeFailed(path: String, reason: String)
    /// ``ForcedFailure`` (a test aid) stopped rank `rank` after epoch `epoch`.
    case forcedFailure(rank: Int, epoch: Int)

    var description: String {
        switch self {
        case .interrupted(let epoch, let step, let directory):
            return "interrupted at epoch \(epoch), step \(step): resume with --resume \(directory)"
        case .interruptedWriting(let path):
            return "interrupted: \(path) not written"
        case .writeFailed(let path, let reason):
            return "cannot write \(path) (\(reason)): training stopped; the files written before it are unchanged"
        case .forcedFailure(let rank, let epoch):
            return "rank \(rank) failed after epoch \(epoch), as \(ForcedFailure.rankVariable) and \(ForcedFailure.epochVariable) asked (a test aid)"
        }
    }

    /// 130 (128 + SIGINT, as a shell reports an interrupted command) or 1.
    var exitCode: Int32 {
        switch self {
        case .interrupted, .interruptedWriting: return 130
        default: return 1
        }
    }
}
