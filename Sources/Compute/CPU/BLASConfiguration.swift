import CBLAS
import Foundation

/// Sets OpenBLAS up for the CPU backend: the kernels of the processor it runs on, and one thread per call.
///
/// The backend spreads products over the cores itself (``CPUDevice/sgemm``, the convolutions' batch split), on
/// the same threads as its other loops. OpenBLAS's own thread pool would spin (`sched_yield`) between calls and
/// take cores from those loops, so it is set to one thread.
///
/// A `DYNAMIC_ARCH` OpenBLAS picks its kernels once, when it loads, from the CPU model. A release that predates
/// the processor (OpenBLAS 0.3.21 on Sapphire Rapids, family 6 model 207, say) falls back to its generic
/// `Prescott` kernels, which use SSE3 only: on such a machine every product runs 4–8× slower than it could.
/// When that happened, and the user has not chosen a core type with `OPENBLAS_CORETYPE`, the selection is
/// run again with the core type that the processor's instruction-set flags support (`SkylakeX` for AVX-512,
/// `Haswell` for AVX2 with FMA), through OpenBLAS's own `gotoblas_dynamic_quit` / `gotoblas_dynamic_init`.
/// A build without dynamic selection lacks those functions and is left alone.
enum BLASConfiguration {
    /// The core type whose kernels OpenBLAS uses, after the set-up (which runs once per process, before the
    /// first product: the CPU backend's initializer reads it).
    static let coreName: String = {
        openblas_set_num_threads(1)
        guard let current = openblas_get_corename().map({ String(cString: $0) }) else { return "unknown" }
        guard current.lowercased() == "prescott",
              ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
              let better = supportedCoreType(flags: processorFlags()),
              let handle = dlopen(nil, RTLD_NOW),
              let quit = dlsym(handle, "gotoblas_dynamic_quit"),
              let initialize = dlsym(handle, "gotoblas_dynamic_init") else { return current }
        typealias Entry = @convention(c) () -> Void
        setenv("OPENBLAS_CORETYPE", better, 1)
        unsafeBitCast(quit, to: Entry.self)()
        unsafeBitCast(initialize, to: Entry.self)()
        unsetenv("OPENBLAS_CORETYPE")
        return openblas_get_corename().map { String(cString: $0) } ?? better
    }()

    /// The OpenBLAS core type for a set of `/proc/cpuinfo` flags, or `nil` when only the generic kernels fit.
    static func supportedCoreType(flags: Set<Substring>) -> String? {
        if ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return nil
    }

    /// The instruction-set flags of the first processor in `/proc/cpuinfo` (empty elsewhere).
    private static func processorFlags() -> Set<Substring> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " "))
    }
}
