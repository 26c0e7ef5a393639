#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The functions and handles of an Open MPI library opened with `dlopen`, so that nothing links libmpi.
///
/// In Open MPI, `MPI_COMM_WORLD`, `MPI_FLOAT`, `MPI_DOUBLE`, `MPI_SUM` and `MPI_ERRORS_RETURN` are macros over the
/// addresses of global structs (`ompi_mpi_comm_world` and so on): the addresses found by `dlsym` are the handles.
/// `MPI_IN_PLACE` is `(void *)1`.
struct OpenMPILibrary: @unchecked Sendable {
    typealias Handle = UnsafeMutableRawPointer
    typealias InitThread = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, Int32,
                                           UnsafeMutablePointer<Int32>) -> Int32
    typealias Initialized = @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    typealias CommQuery = @convention(c) (Handle, UnsafeMutablePointer<Int32>) -> Int32
    typealias Allreduce = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?, Int32, Handle, Handle,
                                          Handle) -> Int32
    typealias Bcast = @convention(c) (UnsafeMutableRawPointer?, Int32, Handle, Int32, Handle) -> Int32
    typealias Barrier = @convention(c) (Handle) -> Int32
    typealias Abort = @convention(c) (Handle, Int32) -> Int32
    typealias Finalize = @convention(c) () -> Int32
    typealias SetErrhandler = @convention(c) (Handle, Handle) -> Int32
    typealias ErrorString = @convention(c) (Int32, UnsafeMutablePointer<CChar>, UnsafeMutablePointer<Int32>) -> Int32

    /// `MPI_THREAD_SERIALIZED`: MPI may be called from any thread, one at a time (a communication thread may do it).
    static let threadSerialized: Int32 = 2
    /// `MPI_IN_PLACE`.
    static let inPlace = UnsafeRawPointer(bitPattern: 1)
    /// `MPI_MAX_ERROR_STRING` in Open MPI.
    static let maxErrorString = 256

    /// The library that was opened, for messages.
    let name: String
    let initThread: InitThread
    let initialized: Initialized
    let commRank: CommQuery
    let commSize: CommQuery
    let allreduce: Allreduce
    let bcast: Bcast
    let barrier: Barrier
    let abort: Abort
    let finalize: Finalize
    let setErrhandler: SetErrhandler
    let errorString: ErrorString
    let commWorld: Handle
    let float: Handle
    let double: Handle
    let sum: Handle
    let errorsReturn: Handle

    /// Opens the first of `names` that `dlopen` can load, with its symbols global (Open MPI's plugins need them).
    ///
    /// - Throws: ``CommunicatorError/libraryUnavailable(variable:tried:reason:)`` when none loads (naming
    ///   `launcherVariable`), ``CommunicatorError/missingSymbol(_:library:)`` when a symbol is missing.
    init(names: [String], launcherVariable: String) throws {
        var handle: UnsafeMutableRawPointer?
        var opened = ""
        var reason = "no library name given"
        for candidate in names {
            handle = dlopen(candidate, RTLD_NOW | RTLD_GLOBAL)
            if handle != nil { opened = candidate; break }
            reason = dlerror().map { String(cString: $0) } ?? "dlopen failed"
        }
        guard let handle else {
            throw CommunicatorError.libraryUnavailable(variable: launcherVariable, tried: names, reason: reason)
        }
        func symbol(_ name: String) throws -> UnsafeMutableRawPointer {
            guard let address = dlsym(handle, name) else { throw CommunicatorError.missingSymbol(name, library: opened) }
            return address
        }
        func function<F>(_ name: String, as type: F.Type) throws -> F { unsafeBitCast(try symbol(name), to: type) }
        name = opened
        initThread = try function("MPI_Init_thread", as: InitThread.self)
        initialized = try function("MPI_Initialized", as: Initialized.self)
        commRank = try function("MPI_Comm_rank", as: CommQuery.self)
        commSize = try function("MPI_Comm_size", as: CommQuery.self)
        allreduce = try function("MPI_Allreduce", as: Allreduce.self)
        bcast = try function("MPI_Bcast", as: Bcast.self)
        barrier = try function("MPI_Barrier", as: Barrier.self)
        abort = try function("MPI_Abort", as: Abort.self)
        finalize = try function("MPI_Finalize", as: Finalize.self)
        setErrhandler = try function("MPI_Comm_set_errhandler", as: SetErrhandler.self)
        errorString = try function("MPI_Error_string", as: ErrorString.self)
        commWorld = try symbol("ompi_mpi_comm_world")
        float = try symbol("ompi_mpi_float")
        double = try symbol("ompi_mpi_double")
        sum = try symbol("ompi_mpi_op_sum")
        errorsReturn = try symbol("ompi_mpi_errors_return")
    }

    /// Throws ``CommunicatorError/callFailed(call:code:message:)`` unless `code` is `MPI_SUCCESS` (0).
    func check(_ code: Int32, _ call: String) throws {
        guard code != 0 else { return }
        var text = [CChar](repeating: 0, count: Self.maxErrorString + 1)
        var length: Int32 = 0
        let message = errorString(code, &text, &length) == 0 ? String(cString: text) : ""
        throw CommunicatorError.callFailed(call: call, code: code, message: message)
    }
}
