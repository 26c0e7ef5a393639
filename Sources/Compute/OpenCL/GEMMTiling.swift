import Foundation

/// Tile sizes of the register-blocked OpenCL GEMM kernel (`gemm_blocked` in `Kernels/gemm.cl`): rows and
/// columns of C per work group and per work item, and the depth of the K slice (see ``BlockTiling``).
struct GEMMTiling: BlockTiling {
    let tileM, tileN, tileK, workM, workN: Int

    /// NVIDIA GPUs: 128×64 tiles, 8×4 per work item (256 work items, 32 accumulators each), 8-deep slices (6.4 KB of
    /// local memory). ptxas gives it 105 registers on sm_90, so two work groups fit an SM; 128×128 tiles with 8×8
    /// per work item took 197–213 registers (one group per SM). See Kernels/README.md for the whole table.
    static let nvidia = GEMMTiling(tileM: 128, tileN: 64, tileK: 8, workM: 8, workN: 4)
    /// Other GPUs: 64×64 tiles, 4×4 per work item (256 work items), within any GPU's register file.
    static let gpu = GEMMTiling(tileM: 64, tileN: 64, tileK: 16, workM: 4, workN: 4)
    /// CPU-like devices (PoCL): 128×128 tiles, 8×8 per work item. PoCL vectorizes across the 256 work items of a
    /// group; on an AVX-512 Xeon this ran 2–4× as fast as 32×32 tiles (4×4 per item) or 64×64 (8×8, 64 items).
    static let cpu = GEMMTiling(tileM: 128, tileN: 128, tileK: 16, workM: 8, workN: 8)
    static let variable = "AUTOENCODERKIT_GEMM_TILING"
    static let macroPrefix = "GEMM"
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

    /// The plan `AUTOENCODERKIT_GEMM_PLAN` forces on every product of a device, for tuning (each plan gives the
    /// same result): `simple`, `blocked` (one K range) or `split:S` (K in at most S ranges); nil when the variable
    /// is absent or names no plan, and the rule above decides.
    static func forced(environment: [String: String] = ProcessInfo.processInfo.environment) -> Forced? {
        guard let value = environment["AUTOENCODERKIT_GEMM_PLAN"]?.lowercased() else { return nil }
        switch value {
        case "simple": return .simple
        case "blocked": return .splits(1)
        default:
            guard value.hasPrefix("split:"), let splits = Int(value.dropFirst("split:".count)),
                  (1...maximumSplits).contains(splits) else { return nil }
            return .splits(splits)
        }
    }

    /// A plan forced by ``forced(environment:)``: the simple kernel, or the blocked one over at most this many K ranges.
    enum Forced: Equatable {
        case simple
        case splits(Int)

        /// The forced plan of one product.
        func plan(k: Int, tiling: GEMMTiling) -> GEMMPlan {
            switch self {
            case .simple: return .simple
            case .splits(let splits): return GEMMPlan.split(k: max(k, 1), into: splits, tileK: tiling.tileK)
            }
        }
    }

    /// K cut into at most `splits` ranges, each a whole number of `tileK` slices deep.
    static func split(k: Int, into splits: Int, tileK: Int) -> GEMMPlan {
        let chunk = ((k + splits - 1) / splits + tileK - 1) / tileK * tileK
        return .blocked(splits: (k + chunk - 1) / chunk, kChunk: chunk)
    }
}
