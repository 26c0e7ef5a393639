#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The communicator of a process started by Open MPI's `mpirun`, over a libmpi loaded at run time.
///
/// Creating one initializes MPI (unless something already did) on `MPI_COMM_WORLD`, with errors returned rather
/// than fatal, so that a failing call is thrown as ``CommunicatorError/callFailed(call:code:message:)`` naming it.
/// A process holds at most one; call ``finalize()`` once before it exits. Create it only under a launcher
/// (``Communicators/fromEnvironment(_:libraryNames:)`` does): without one, `MPI_Init` starts a singleton job, which
/// forks `orted` and dies when `orted` is missing.
public final class OpenMPICommunicator: Communicator, @unchecked Sendable {
    private let library: OpenMPILibrary
    private var finalized = false
    public let rank: Int
    public let size: Int
    public let localRank: Int

    /// Loads the first of `libraryNames` that opens and joins the job.
    ///
    /// - Parameters:
    ///   - libraryNames: libmpi names or paths, tried in order.
    ///   - launcherVariable: the environment variable that showed a launcher started the process, for messages.
    ///   - localRank: this process's rank on its machine, or `nil` to use its rank in the job.
    public init(libraryNames: [String], launcherVariable: String, localRank: Int?) throws {
        let library = try OpenMPILibrary(names: libraryNames, launcherVariable: launcherVariable)
        var flag: Int32 = 0
        try library.check(library.initialized(&flag), "MPI_Initialized")
        if flag == 0 {
            var provided: Int32 = 0
            try library.check(library.initThread(nil, nil, OpenMPILibrary.threadSerialized, &provided), "MPI_Init_thread")
        }
        try library.check(library.setErrhandler(library.commWorld, library.errorsReturn), "MPI_Comm_set_errhandler")
        var rank: Int32 = 0, size: Int32 = 0
        try library.check(library.commRank(library.commWorld, &rank), "MPI_Comm_rank")
        try library.check(library.commSize(library.commWorld, &size), "MPI_Comm_size")
        self.library = library
        self.rank = Int(rank)
        self.size = Int(size)
        self.localRank = localRank ?? Int(rank)
    }

    public func allReduceSum(_ values: inout [Float]) throws {
        try allReduce(&values, type: library.float)
    }

    public func allReduceSum(_ values: inout [Double]) throws {
        try allReduce(&values, type: library.double)
    }

    public func broadcast(_ values: inout [Float], root: Int) throws {
        guard (0..<size).contains(root) else { throw CommunicatorError.invalidRoot(root, size: size) }
        try values.withUnsafeMutableBufferPointer { buffer in
            for chunk in Self.chunks(buffer.count) {
                try library.check(library.bcast(buffer.baseAddress! + chunk.lowerBound, Int32(chunk.count),
                                                library.float, Int32(root), library.commWorld), "MPI_Bcast")
            }
        }
    }

    public func barrier() throws {
        try library.check(library.barrier(library.commWorld), "MPI_Barrier")
    }

    public func abort(code: Int32) -> Never {
        _ = library.abort(library.commWorld, code)
        exit(code)
    }

    public func finalize() throws {
        guard !finalized else { return }
        finalized = true
        try library.check(library.finalize(), "MPI_Finalize")
    }

    /// One in-place `MPI_Allreduce` with `MPI_SUM` per chunk of at most `Int32.max` elements (MPI counts are `int`).
    private func allReduce<T>(_ values: inout [T], type: OpenMPILibrary.Handle) throws {
        try values.withUnsafeMutableBufferPointer { buffer in
            for chunk in Self.chunks(buffer.count) {
                try library.check(library.allreduce(OpenMPILibrary.inPlace, buffer.baseAddress! + chunk.lowerBound,
                                                    Int32(chunk.count), type, library.sum, library.commWorld),
                                  "MPI_Allreduce")
            }
        }
    }

    /// The element ranges of a buffer of `count` elements, each short enough for an MPI count.
    static func chunks(_ count: Int, limit: Int = Int(Int32.max)) -> [Range<Int>] {
        stride(from: 0, to: count, by: limit).map { $0..<min($0 + limit, count) }
    }
}
