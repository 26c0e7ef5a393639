import COpenCL
import Foundation
import Kernels

/// One OpenCL device: a context, an in-order queue, and every kernel family compiled once
/// (program binaries cached on disk by ``KernelCache``).
///
/// Primitives enqueue kernels and return at once; reads wait. A failing enqueue is remembered and
/// reported by ``checkHealth()`` (and by the next read), since primitives themselves do not throw.
public final class OpenCLDevice: DeviceCore {
    public let info: DeviceInfo
    private let counter = DeviceActivityCounter()
    let device: cl_device_id
    let context: cl_context
    let queue: cl_command_queue
    private var kernels: [String: cl_kernel] = [:]
    /// The names of the kernels enqueued since the device was opened (see ``launchedKernels``).
    private var launchedNames: Set<String> = []
    private var programs: [cl_program] = []
    /// Each built family's build log (the driver's, or the one cached with its binary), in build order.
    private var buildLogs: [String] = []
    private var failure: ComputeError?
    /// Serializes argument setting and enqueueing: a `cl_kernel`'s arguments are shared state.
    private let launchLock = NSLock()
    /// A one-element buffer passed where an optional operand is absent.
    private(set) var placeholder: Buffer!
    /// Per-work-group results of the first pass of a whole-buffer reduction (see `OpenCLDevice+Reduction.swift`).
    private(set) var reductionPartials: Buffer!
    /// Held across both passes of a whole-buffer reduction, so concurrent callers never share ``reductionPartials``.
    let reductionLock = NSLock()
    /// Where program binaries are cached; also used by families built on request (``buildOnRequest``).
    private let kernelCache: KernelCache
    /// Whether products run at TF32, and the outcome of the probe (see `OpenCLDevice+TF32.swift`).
    let tf32 = TF32Switch()
    /// Tile sizes of the register-blocked GEMM kernel, compiled into the `gemm` family.
    let gemmTiling: GEMMTiling
    /// The plan `AUTOENCODERKIT_GEMM_PLAN` forces on every product, read once at start (see ``GEMMPlan/forced(environment:)``).
    let forcedGEMMPlan = GEMMPlan.forced()
    /// The split-K partial products of ``gemm(_:transposeA:_:transposeB:into:m:n:k:alpha:beta:bias:activation:)``.
    let gemmWorkspace = ScratchBuffer()
    /// Tile sizes of the register-blocked convolution kernels, compiled into the `conv` family.
    let convTiling: ConvTiling
    /// The partial weight gradients of a split ``conv2dBackwardWeight(_:_:into:geometry:accumulate:)``.
    let convWorkspace = ScratchBuffer()
    /// The per-work-group KL column sums of a several-group ``gaussianLatent(mu:logvar:batch:dim:eps:into:random:klPerSample:klPerDimension:klDimensionSums:)``.
    let latentWorkspace = ScratchBuffer()

    /// Opens OpenCL device number `index` (the `N` of `opencl:N`) and builds every kernel family.
    public convenience init(index: Int) throws {
        try self.init(index: index, gemmTiling: nil)
    }

    /// Opens OpenCL device number `index` with the GEMM and convolution tile sizes given, or else those
    /// ``GEMMTiling/choose(for:environment:)`` and ``ConvTiling/choose(for:environment:)`` pick for it.
    convenience init(index: Int, gemmTiling: GEMMTiling?, convTiling: ConvTiling? = nil) throws {
        let entries = try OpenCLRuntime.discovery.get()
        guard entries.indices.contains(index) else {
            throw ComputeError.unknownDevice("opencl:\(index)")
        }
        try self.init(entry: entries[index], gemmTiling: gemmTiling ?? .choose(for: entries[index].info),
                      convTiling: convTiling ?? .choose(for: entries[index].info))
    }

    init(entry: OpenCLRuntime.Entry, gemmTiling: GEMMTiling, convTiling: ConvTiling) throws {
        info = entry.info
        self.gemmTiling = gemmTiling
        self.convTiling = convTiling
        device = entry.device
        var status: cl_int = 0
        guard let context = aek_clCreateContext(entry.device, &status), status == CL_SUCCESS else {
            throw ComputeError.openCL(call: "clCreateContext", code: status, device: entry.info.description)
        }
        self.context = context
        guard let queue = aek_clCreateCommandQueue(context, entry.device, 0, &status), status == CL_SUCCESS else {
            _ = aek_clReleaseContext(context)
            throw ComputeError.openCL(call: "clCreateCommandQueue", code: status, device: entry.info.description)
        }
        self.queue = queue
        kernelCache = KernelCache(platform: entry.platformName, device: info)
        for family in KernelLibrary.families {
            try build(family: family.name, source: KernelLibrary.common + "\n" + family.source,
                      options: Self.buildOptions(for: family.name, gemm: gemmTiling, conv: convTiling))
        }
        placeholder = try makeBuffer(count: 1, dtype: .float32)
        reductionPartials = try makeBuffer(count: Self.maxReductionGroups, dtype: .float32)
    }

    deinit {
        _ = aek_clFinish(queue)
        placeholder = nil
        reductionPartials = nil
        gemmWorkspace.release()
        convWorkspace.release()
        latentWorkspace.release()
        for kernel in kernels.values { _ = aek_clReleaseKernel(kernel) }
        for program in programs { _ = aek_clReleaseProgram(program) }
        _ = aek_clReleaseCommandQueue(queue)
        _ = aek_clReleaseContext(context)
    }

    /// Options every program is built with.
    /// `-cl-std=CL1.2`, then any extra options from `AUTOENCODERKIT_OPENCL_OPTIONS` (e.g. `-cl-mad-enable`).
    static let buildOptions: String = {
        let extra = ProcessInfo.processInfo.environment["AUTOENCODERKIT_OPENCL_OPTIONS"] ?? ""
        return extra.isEmpty ? "-cl-std=CL1.2" : "-cl-std=CL1.2 " + extra
    }()

    /// The options a family is built with at start: ``buildOptions``, and for `gemm` and `conv` the tile sizes.
    static func buildOptions(for family: String, gemm: GEMMTiling, conv: ConvTiling) -> String {
        switch family {
        case "gemm": buildOptions + " " + gemm.buildOptions
        case "conv": buildOptions + " " + conv.buildOptions
        default: buildOptions
        }
    }

    /// The option that makes the driver report each kernel's resources in its build log: `-cl-nv-verbose` on
    /// NVIDIA's OpenCL (ptxas's register, spill and shared-memory lines), nothing elsewhere.
    static func verboseOption(for info: DeviceInfo) -> String {
        info.isNVIDIA ? " -cl-nv-verbose" : ""
    }

    /// What the driver's assembler reported for each kernel built so far (NVIDIA's OpenCL under
    /// ``verboseOption(for:)``; empty on drivers that report nothing). Captured once per program, when it is
    /// compiled, and kept beside its cached binary.
    public var driverKernelResources: [KernelResources] {
        launchLock.withLock { buildLogs.flatMap { KernelResources.parse(ptxasLog: $0) } }
    }

    /// The names of the kernels this device has enqueued since it was opened: what a check that claims to run
    /// every kernel (the Oclgrind check, `Tests/KernelCheckTests`) compares with the kernels it built.
    var launchedKernels: Set<String> { launchLock.withLock { launchedNames } }

    /// The names of the kernels built on this device: every family's at start, and those built on request.
    var builtKernels: Set<String> { launchLock.withLock { Set(kernels.keys) } }

    /// Builds a family that is not built at start (its source only compiles on some devices) and registers
    /// its kernels, unless they are registered already. Safe while other threads launch kernels.
    func buildOnRequest(family: String, source: String, options: String) throws {
        launchLock.lock()
        defer { launchLock.unlock() }
        guard !Self.kernelNames(in: source).allSatisfy({ kernels[$0] != nil }) else { return }
        try build(family: family, source: source, options: options)
    }

    /// Builds one family (from the cached binary when there is one) and registers its kernels by name.
    private func build(family: String, source: String, options baseOptions: String) throws {
        let cache = kernelCache
        let options = baseOptions + Self.verboseOption(for: info)
        let key = cache.key(source: source, options: options)
        var log = ""
        var status: cl_int = 0
        var program: cl_program?
        if let binary = cache.load(key: key) {
            program = binary.withUnsafeBytes { bytes in
                aek_clCreateProgramWithBinary(context, device, bytes.count,
                                              bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), &status)
            }
            if let candidate = program, status != CL_SUCCESS || aek_clBuildProgram(candidate, device, options) != CL_SUCCESS {
                _ = aek_clReleaseProgram(candidate)
                program = nil
            } else {
                log = cache.loadLog(key: key)
            }
        }
        if program == nil {
            guard let fresh = aek_clCreateProgramWithSource(context, source, &status), status == CL_SUCCESS else {
                throw ComputeError.openCL(call: "clCreateProgramWithSource", code: status, device: info.description)
            }
            let built = aek_clBuildProgram(fresh, device, options) == CL_SUCCESS
            log = OpenCLRuntime.string {
                aek_clGetProgramBuildInfo(fresh, device, cl_program_build_info(CL_PROGRAM_BUILD_LOG), $0, $1, $2)
            }
            guard built else {
                _ = aek_clReleaseProgram(fresh)
                throw ComputeError.buildFailed(family: family, device: info.description, log: log)
            }
            var size = 0
            if aek_clGetProgramBinary(fresh, nil, 0, &size) == CL_SUCCESS, size > 0 {
                var binary = [UInt8](repeating: 0, count: size)
                if aek_clGetProgramBinary(fresh, &binary, size, nil) == CL_SUCCESS {
                    cache.store(key: key, binary: binary, log: log)
                }
            }
            program = fresh
        }
        guard let program else { return }
        programs.append(program)
        buildLogs.append(log)
        for name in Self.kernelNames(in: source) {
            guard let kernel = aek_clCreateKernel(program, name, &status), status == CL_SUCCESS else {
                throw ComputeError.openCL(call: "clCreateKernel(\(name))", code: status, device: info.description)
            }
            kernels[name] = kernel
        }
    }

    /// Names of the `__kernel` functions defined in a source.
    static func kernelNames(in source: String) -> [String] {
        var names: [String] = []
        for line in source.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("__kernel"), let paren = trimmed.firstIndex(of: "(") else { continue }
            if let name = trimmed[..<paren].split(separator: " ").last { names.append(String(name)) }
        }
        return names
    }

    // MARK: Memory

    public var activity: DeviceActivity { counter.snapshot }

    public func makeBuffer(count: Int, dtype: DType) throws -> Buffer {
        precondition(count >= 0, "negative buffer size")
        guard let bytes = dtype.allocationBytes(count: count) else {
            throw ComputeError.outOfMemory(bytes: Int.max, device: info.description)
        }
        var status: cl_int = 0
        guard let mem = aek_clCreateBuffer(context, cl_mem_flags(CL_MEM_READ_WRITE), bytes, nil, &status),
              status == CL_SUCCESS else {
            if status == CL_MEM_OBJECT_ALLOCATION_FAILURE || status == CL_OUT_OF_RESOURCES || status == CL_INVALID_BUFFER_SIZE
                || status == CL_OUT_OF_HOST_MEMORY {
                throw ComputeError.outOfMemory(bytes: bytes, device: info.description)
            }
            throw ComputeError.openCL(call: "clCreateBuffer", code: status, device: info.description)
        }
        counter.allocation(bytes: bytes)
        let buffer = Buffer(count: count, dtype: dtype, deviceID: ObjectIdentifier(self), storage: .opencl(mem))
        // zeroed as 32-bit words, whatever the element type (the allocation is a whole number of words)
        let words = bytes / 4
        launch("fill", global: [words], [.buffer(BufferSlice(buffer: buffer, offset: 0, count: words)), .int(words), .float(0)])
        return buffer
    }

    public func write(_ values: UnsafeBufferPointer<Float>, to destination: BufferSlice) {
        checkWords(destination, count: values.count)
        write(UnsafeRawBufferPointer(values), to: destination)
    }

    public func write(_ values: UnsafeBufferPointer<Int32>, to destination: BufferSlice) {
        checkWords(destination, count: values.count)
        write(UnsafeRawBufferPointer(values), to: destination)
    }

    public func read(_ source: BufferSlice, into values: UnsafeMutableBufferPointer<Float>) {
        checkWords(source, count: values.count)
        read(source, into: UnsafeMutableRawBufferPointer(values))
    }

    public func read(_ source: BufferSlice, into values: UnsafeMutableBufferPointer<Int32>) {
        checkWords(source, count: values.count)
        read(source, into: UnsafeMutableRawBufferPointer(values))
    }

    /// A blocking write of the view's bytes.
    public func write(_ bytes: UnsafeRawBufferPointer, to destination: BufferSlice) {
        checkBytes(destination, byteCount: bytes.count)
        guard bytes.count > 0 else { return }
        counter.write(bytes: bytes.count)
        record(aek_clEnqueueWriteBuffer(queue, destination.mem, cl_bool(CL_TRUE), destination.byteOffset, bytes.count,
                                        bytes.baseAddress), "clEnqueueWriteBuffer")
    }

    /// A blocking read of the view's bytes.
    public func read(_ source: BufferSlice, into bytes: UnsafeMutableRawBufferPointer) {
        checkBytes(source, byteCount: bytes.count)
        guard bytes.count > 0 else { return }
        counter.read(bytes: bytes.count)
        record(aek_clEnqueueReadBuffer(queue, source.mem, cl_bool(CL_TRUE), source.byteOffset, bytes.count,
                                       bytes.baseAddress), "clEnqueueReadBuffer")
    }

    public func copy(_ source: BufferSlice, to destination: BufferSlice) {
        check(source, count: destination.count)
        check(destination, count: source.count)
        precondition(source.buffer.dtype.size == destination.buffer.dtype.size, "copy between \(source.buffer.dtype) and \(destination.buffer.dtype) views")
        guard source.count > 0 else { return }
        record(aek_clEnqueueCopyBuffer(queue, source.mem, destination.mem, source.byteOffset, destination.byteOffset,
                                       source.byteCount), "clEnqueueCopyBuffer")
    }

    public func fill(_ destination: BufferSlice, with value: Float) {
        checkWords(destination, count: destination.count)
        launch("fill", global: [destination.count], [.buffer(destination), .int(destination.count), .float(value)])
    }

    public func synchronize() {
        counter.synchronization()
        record(aek_clFinish(queue), "clFinish")
    }

    /// Throws the first OpenCL failure since the device was opened (or the last check), after waiting for the queue.
    public func checkHealth() throws {
        synchronize()
        if let failure {
            self.failure = nil
            throw failure
        }
    }

    // MARK: Launching kernels

    /// One kernel argument, held as plain values (no reference to the ``Buffer``), so building and passing
    /// argument lists costs no reference counting. A view becomes two arguments: the memory object and the
    /// element offset.
    struct Argument {
        fileprivate enum Value {
            case memory(cl_mem, offset: Int32, owner: ObjectIdentifier)
            case int(Int32)
            case float(Float)
            case ulong(UInt64)
        }
        fileprivate let value: Value

        /// A view of an OpenCL buffer.
        static func buffer(_ slice: BufferSlice) -> Argument {
            Argument(value: .memory(slice.mem, offset: Int32(slice.offset), owner: slice.buffer.deviceID))
        }
        /// A 32-bit integer (traps when `value` does not fit).
        static func int(_ value: Int) -> Argument { Argument(value: .int(Int32(value))) }
        static func float(_ value: Float) -> Argument { Argument(value: .float(value)) }
        static func ulong(_ value: UInt64) -> Argument { Argument(value: .ulong(value)) }
    }

    /// The placeholder view for an absent optional operand.
    func optional(_ slice: BufferSlice?) -> Argument { .buffer(slice ?? placeholder.whole) }

    /// Enqueues kernel `name` over `global` work items (rounded up to multiples of `local` when given).
    func launch(_ name: String, global: WorkSize, local: WorkSize? = nil, _ arguments: [Argument]) {
        var sizes = global
        for d in 0..<sizes.count {
            guard sizes[d] > 0 else { return }
            if let local { sizes[d] = (sizes[d] + local[d] - 1) / local[d] * local[d] }
        }
        launchLock.lock()
        defer { launchLock.unlock() }
        guard let kernel = kernels[name] else { preconditionFailure("no OpenCL kernel named \(name)") }
        counter.launch()
        launchedNames.insert(name)
        var index: cl_uint = 0
        var status = CL_SUCCESS
        for argument in arguments {
            switch argument.value {
            case .memory(let memory, var offset, let owner):
                precondition(owner == ObjectIdentifier(self), "buffer from another device")
                var mem: cl_mem? = memory
                status = worst(status, aek_clSetKernelArg(kernel, index, MemoryLayout<cl_mem>.size, &mem))
                status = worst(status, aek_clSetKernelArg(kernel, index + 1, 4, &offset))
                index += 2
            case .int(var v):
                status = worst(status, aek_clSetKernelArg(kernel, index, 4, &v))
                index += 1
            case .float(var v):
                status = worst(status, aek_clSetKernelArg(kernel, index, 4, &v))
                index += 1
            case .ulong(var v):
                status = worst(status, aek_clSetKernelArg(kernel, index, 8, &v))
                index += 1
            }
        }
        record(status, "clSetKernelArg(\(name))")
        let enqueued = sizes.withSizes { global in
            guard let local else { return aek_clEnqueueNDRangeKernel(queue, kernel, cl_uint(sizes.count), global, nil) }
            return local.withSizes { aek_clEnqueueNDRangeKernel(queue, kernel, cl_uint(sizes.count), global, $0) }
        }
        record(enqueued, "clEnqueueNDRangeKernel(\(name))")
    }

    /// The first failure of two statuses (`CL_SUCCESS` when both succeeded).
    @inline(__always)
    private func worst(_ first: cl_int, _ second: cl_int) -> cl_int { first != CL_SUCCESS ? first : second }

    /// Remembers the first failing call.
    private func record(_ status: cl_int, _ call: @autoclosure () -> String) {
        if status != CL_SUCCESS && failure == nil {
            failure = status == CL_MEM_OBJECT_ALLOCATION_FAILURE || status == CL_OUT_OF_RESOURCES
                ? .outOfMemory(bytes: 0, device: info.description)
                : .openCL(call: call(), code: status, device: info.description)
        }
    }

    @inline(__always)
    private func check(_ slice: BufferSlice, count: Int) {
        precondition(slice.buffer.deviceID == ObjectIdentifier(self), "buffer from another device")
        precondition(slice.count == count, "view of \(slice.count) elements where \(count) are needed")
    }

    /// ``check(_:count:)`` for a transfer of 32-bit values (floats or integers): the view's type must be 4 bytes wide.
    @inline(__always)
    private func checkWords(_ slice: BufferSlice, count: Int) {
        precondition(slice.buffer.dtype.size == 4, "a 32-bit transfer with a \(slice.buffer.dtype) view")
        check(slice, count: count)
    }

    /// Checks a raw transfer of `byteCount` bytes: the view's device, and its size in bytes.
    @inline(__always)
    private func checkBytes(_ slice: BufferSlice, byteCount: Int) {
        precondition(slice.buffer.deviceID == ObjectIdentifier(self), "buffer from another device")
        precondition(slice.byteCount == byteCount, "\(byteCount) bytes for a view of \(slice.count) \(slice.buffer.dtype) elements (\(slice.byteCount) bytes)")
    }
}
