import Foundation

/// Tile sizes of the register-blocked OpenCL GEMM kernel (`gemm_blocked` in `Kernels/gemm.cl`).
///
/// A work group computes a ``tileM``×``tileN`` block of C, stepping through K in ``tileK``-deep slices of
/// op(A) and op(B) staged in local memory; each of its (tileM/workM)·(tileN/workN) work items accumulates a
/// ``workM``×``workN`` block of C in registers. The sizes are compiled into the `gemm` family as `-D` macros
/// (``buildOptions``), so they are part of its kernel-cache key.
struct GEMMTiling: Equatable, Sendable {
    /// Rows of C per work group.
    var tileM: Int
    /// Columns of C per work group.
    var tileN: Int
    /// Depth of the K slice staged in local memory.
    var tileK: Int
    /// Rows of C per work item (a multiple of 4 dividing ``tileM``).
    var workM: Int
    /// Columns of C per work item (a multiple of 4 dividing ``tileN``).
    var workN: Int

    /// NVIDIA GPUs: 128×128 tiles, 8×8 per work item (256 work items, 64 accumulators each, ~17 KB of local memory).
    static let nvidia = GEMMTiling(tileM: 128, tileN: 128, tileK: 16, workM: 8, workN: 8)
    /// Other GPUs: 64×64 tiles, 4×4 per work item (256 work items), within any GPU's register file.
    static let gpu = GEMMTiling(tileM: 64, tileN: 64, tileK: 16, workM: 4, workN: 4)
    /// CPU-like devices (PoCL): 128×128 tiles, 8×8 per work item. PoCL vectorizes across the 256 work items of a
    /// group; on an AVX-512 Xeon this ran 2–4× as fast as 32×32 tiles (4×4 per item) or 64×64 (8×8, 64 items).
    static let cpu = GEMMTiling(tileM: 128, tileN: 128, tileK: 16, workM: 8, workN: 8)

    /// The presets by the names `AUTOENCODERKIT_GEMM_TILING` accepts.
    static let presets: [String: GEMMTiling] = ["nvidia": .nvidia, "gpu": .gpu, "cpu": .cpu]

    /// The tiling for a device: the preset named by `AUTOENCODERKIT_GEMM_TILING` (`nvidia`, `gpu` or `cpu`)
    /// when it names one, else ``nvidia`` for an NVIDIA GPU, ``gpu`` for any other GPU and ``cpu`` otherwise.
    static func choose(for info: DeviceInfo,
                       environment: [String: String] = ProcessInfo.processInfo.environment) -> GEMMTiling {
        if let name = environment["AUTOENCODERKIT_GEMM_TILING"], let preset = presets[name.lowercased()] {
            return preset
        }
        guard info.isGPU else { return .cpu }
        return info.vendor.lowercased().contains("nvidia") ? .nvidia : .gpu
    }

    /// Work-group size of `gemm_blocked`: work items along N, along M, and 1 along the K splits.
    var local: [Int] { [tileN / workN, tileM / workM, 1] }

    /// The options defining the macros `gemm_blocked` is compiled with.
    var buildOptions: String {
        "-DGEMM_TM=\(tileM) -DGEMM_TN=\(tileN) -DGEMM_TK=\(tileK) -DGEMM_WM=\(workM) -DGEMM_WN=\(workN)"
    }
}

/// Which OpenCL kernel computes a product C = op(A)·op(B) of M×K by K×N, and how.
enum GEMMPlan: Equatable {
    /// `gemm_tiled`: one output per work item over 16×16 tiles.
    case simple
    /// `gemm_blocked`, with K cut into `splits` ranges of `kChunk` (a multiple of `tileK`). With more than one
    /// range, each writes its partial product into a workspace and `gemm_splitk_reduce` sums them.
    case blocked(splits: Int, kChunk: Int)

    /// Products with at most this many rows or columns take ``simple``.
    static let smallLimit = 16
    /// The least depth of one split-K range: shallower ranges do not pay for their partial products' traffic.
    static let minimumSplitDepth = 256
    /// The most split-K ranges.
    static let maximumSplits = 16

    /// The rule, with tiles = ⌈M/tileM⌉·⌈N/tileN⌉ blocked work groups:
    /// 1. M ≤ 16 or N ≤ 16 (batch-sized products, matrix-vector): ``simple``, as a blocked tile would be mostly padding.
    /// 2. tiles ≥ compute units: ``blocked(splits:kChunk:)`` with one K range.
    /// 3. Otherwise split K into s = min(⌈CU/tiles⌉, ⌊K/256⌋, 16) ranges, when s ≥ 2, so that s·tiles work groups
    ///    fill the device (the workspace holds s·M·N ≤ 2·CU·tileM·tileN floats).
    /// 4. Otherwise ``simple``, which has (tileM/16)·(tileN/16) times as many work groups as there are tiles.
    init(m: Int, n: Int, k: Int, tiling: GEMMTiling, computeUnits: Int) {
        if m <= Self.smallLimit || n <= Self.smallLimit {
            self = .simple
            return
        }
        let tiles = (m + tiling.tileM - 1) / tiling.tileM * ((n + tiling.tileN - 1) / tiling.tileN)
        if tiles >= computeUnits {
            self = .blocked(splits: 1, kChunk: k)
            return
        }
        let splits = min((computeUnits + tiles - 1) / tiles, k / Self.minimumSplitDepth, Self.maximumSplits)
        self = splits >= 2 ? Self.split(k: k, into: splits, tileK: tiling.tileK) : .simple
    }

    /// K cut into at most `splits` ranges, each a whole number of `tileK` slices deep.
    static func split(k: Int, into splits: Int, tileK: Int) -> GEMMPlan {
        let chunk = ((k + splits - 1) / splits + tileK - 1) / tileK * tileK
        return .blocked(splits: (k + chunk - 1) / chunk, kChunk: chunk)
    }
}
