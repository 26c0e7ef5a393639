import Foundation

/// Tile sizes of a register-blocked OpenCL kernel family: a work group computes a ``tileM``×``tileN`` block of a
/// product, stepping through its reduction in ``tileK``-deep slices staged in local memory; each of its
/// (tileM/workM)·(tileN/workN) work items accumulates a ``workM``×``workN`` block in registers. The sizes are
/// compiled into the family as `-D` macros (``buildOptions``), so they are part of its kernel-cache key.
///
/// Each family (``GEMMTiling``, ``ConvTiling``) names its three presets, the environment variable that forces
/// one and its macros' prefix; choosing, the work-group shape and the build options are shared.
protocol BlockTiling: Equatable, Sendable {
    /// Rows of the product per work group.
    var tileM: Int { get }
    /// Columns of the product per work group.
    var tileN: Int { get }
    /// Depth of the reduction slice staged in local memory.
    var tileK: Int { get }
    /// Rows per work item (a multiple of 4 dividing ``tileM``).
    var workM: Int { get }
    /// Columns per work item (a multiple of 4 dividing ``tileN``).
    var workN: Int { get }

    /// The preset for NVIDIA GPUs.
    static var nvidia: Self { get }
    /// The preset for other GPUs.
    static var gpu: Self { get }
    /// The preset for CPU-like devices (PoCL).
    static var cpu: Self { get }
    /// The environment variable whose value (`nvidia`, `gpu` or `cpu`) forces a preset.
    static var variable: String { get }
    /// The prefix of the family's macros: `PREFIX_TM`, `PREFIX_TN`, `PREFIX_TK`, `PREFIX_WM`, `PREFIX_WN`.
    static var macroPrefix: String { get }
}

extension BlockTiling {
    /// The presets by the names ``variable`` accepts.
    static var presets: [String: Self] { ["nvidia": nvidia, "gpu": gpu, "cpu": cpu] }

    /// The tiling for a device: the preset named by ``variable`` when it names one, else ``nvidia`` for an
    /// NVIDIA GPU, ``gpu`` for any other GPU and ``cpu`` otherwise.
    static func choose(for info: DeviceInfo,
                       environment: [String: String] = ProcessInfo.processInfo.environment) -> Self {
        if let name = environment[variable], let preset = presets[name.lowercased()] {
            return preset
        }
        guard info.isGPU else { return cpu }
        return info.isNVIDIA ? nvidia : gpu
    }

    /// Work-group size of the blocked kernels: work items along the columns, along the rows, and 1 along the
    /// third dimension (K splits, stride phases or reduction ranges).
    var local: WorkSize { [tileN / workN, tileM / workM, 1] }

    /// Work items of ⌈columns/tileN⌉×⌈rows/tileM⌉×`depth` work groups of ``local`` size.
    func global(columns: Int, rows: Int, depth: Int) -> WorkSize {
        [(columns + tileN - 1) / tileN * (tileN / workN), (rows + tileM - 1) / tileM * (tileM / workM), depth]
    }

    /// The options defining the macros the family is compiled with.
    var buildOptions: String {
        let p = Self.macroPrefix
        return "-D\(p)_TM=\(tileM) -D\(p)_TN=\(tileN) -D\(p)_TK=\(tileK) -D\(p)_WM=\(workM) -D\(p)_WN=\(workN)"
    }
}
