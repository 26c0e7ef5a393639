/// The ranks of one data-parallel job and the collectives they run together.
///
/// Every process of the job holds one communicator; `size` processes, numbered `rank` 0 ..< `size`, call the same
/// collectives in the same order. A program that was not started by an MPI launcher gets ``SingleProcess``, for
/// which every collective is a no-op, so a trainer has one code path for one process and for many
/// (``Communicators/fromEnvironment(_:libraryNames:)`` picks the implementation).
///
/// The communicator lives in its own target, `Distributed`, below `Autoencoders` and beside `Compute`: it moves
/// host arrays between processes and needs no device, so it depends on nothing of the engine, and the layers and
/// kernels do not depend on it.
public protocol Communicator: Sendable {
    /// This process's number in the job, 0 ..< ``size``.
    var rank: Int { get }
    /// The number of processes in the job.
    var size: Int { get }
    /// This process's number among the job's processes on the same machine: the device it should take.
    var localRank: Int { get }
    /// Replaces `values` on every rank by the element-wise sum of every rank's `values`, in place, in one call.
    ///
    /// Every rank must pass the same count.
    func allReduceSum(_ values: inout [Float]) throws
    /// Replaces `values` on every rank by the element-wise sum of every rank's `values`, in place, in one call.
    ///
    /// Every rank must pass the same count.
    func allReduceSum(_ values: inout [Double]) throws
    /// Replaces `values` on every rank by rank `root`'s `values` (every rank must pass the same count).
    func broadcast(_ values: inout [Float], root: Int) throws
    /// Returns once every rank has called it.
    func barrier() throws
    /// Ends every process of the job with exit status `code`, at once (for a fault on one rank).
    func abort(code: Int32) -> Never
    /// Leaves the job; call once, after the last collective and before the process exits.
    func finalize() throws
}

extension Communicator {
    /// Whether this process is rank 0, the one that owns the files and prints progress.
    public var isRoot: Bool { rank == 0 }
}
