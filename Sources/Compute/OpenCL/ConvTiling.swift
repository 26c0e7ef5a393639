import Foundation

/// Tile sizes of the register-blocked OpenCL convolution kernels (`conv2d_*_blocked` in `Kernels/conv.cl`).
///
/// Each pass is an implicit GEMM: a work group computes a ``tileM``×``tileN`` block of the product, stepping
/// through its reduction in ``tileK``-deep slices gathered from the tensors into local memory; each of its
/// (tileM/workM)·(tileN/workN) work items accumulates a ``workM``×``workN`` block in registers. The sizes are
/// compiled into the `conv` family as `-D` macros (``buildOptions``), so they are part of its kernel-cache key.
/// The rows are output channels (forward, weight gradient) or input channels (input gradient).
struct ConvTiling: Equatable, Sendable {
    /// Rows of the product per work group.
    var tileM: Int
    /// Columns of the product per work group.
    var tileN: Int
    /// Depth of the reduction slice staged in local memory.
    var tileK: Int
    /// Rows per work item (a multiple of 4 dividing ``tileM``).
    var workM: Int
    /// Columns per work item (a multiple of 4 dividing ``tileN``).
    var workN: Int

    /// NVIDIA GPUs: 32×128 tiles, 4×8 per work item (128 work items), 8-deep slices. 32 rows fit the 32 and 64
    /// channels of the conv VAE without padding; with 16-deep slices clang no longer keeps the 32 accumulators
    /// in registers (the PTX then has local-memory arrays).
    static let nvidia = ConvTiling(tileM: 32, tileN: 128, tileK: 8, workM: 4, workN: 8)
    /// Other GPUs: 32×64 tiles, 4×4 per work item (128 work items), 16-deep slices.
    static let gpu = ConvTiling(tileM: 32, tileN: 64, tileK: 16, workM: 4, workN: 4)
    /// CPU-like devices (PoCL): 64×128 tiles, 4×8 per work item (256 work items, which PoCL vectorizes across).
    static let cpu = ConvTiling(tileM: 64, tileN: 128, tileK: 8, workM: 4, workN: 8)

    /// The presets by the names `AUTOENCODERKIT_CONV_TILING` accepts.
    static let presets: [String: ConvTiling] = ["nvidia": .nvidia, "gpu": .gpu, "cpu": .cpu]

    /// The tiling for a device: the preset named by `AUTOENCODERKIT_CONV_TILING` (`nvidia`, `gpu` or `cpu`)
    /// when it names one, else ``nvidia`` for an NVIDIA GPU, ``gpu`` for any other GPU and ``cpu`` otherwise.
    static func choose(for info: DeviceInfo,
                       environment: [String: String] = ProcessInfo.processInfo.environment) -> ConvTiling {
        if let name = environment["AUTOENCODERKIT_CONV_TILING"], let preset = presets[name.lowercased()] {
            return preset
        }
        guard info.isGPU else { return .cpu }
        return info.vendor.lowercased().contains("nvidia") ? .nvidia : .gpu
    }

    /// Work-group size of the blocked kernels: work items along the columns, along the rows, and 1 along the
    /// third dimension (stride phases or reduction ranges).
    var local: [Int] { [tileN / workN, tileM / workM, 1] }

    /// The options defining the macros the `conv` family is compiled with.
    var buildOptions: String {
        "-DCONV_TM=\(tileM) -DCONV_TN=\(tileN) -DCONV_TK=\(tileK) -DCONV_WM=\(workM) -DCONV_WN=\(workN)"
    }
}

/// Which OpenCL kernels compute one convolution pass.
enum ConvPlan: Equatable {
    /// For a product with very few rows: `conv2d_forward_tiled` (one output per work item over 16×16 tiles) or
    /// `conv2d_backward_input_gather` (one work item per input element). Not a plan for the weight gradient.
    case simple
    /// The register-blocked kernel of the pass, over the whole reduction.
    case blocked
    /// The weight gradient's blocked kernel with its N·HO·WO positions cut into `ranges` ranges of `depth`
    /// (a multiple of `tileK`), each writing a partial gradient into a workspace that
    /// `conv2d_backward_weight_reduce` sums.
    case split(ranges: Int, depth: Int)

    /// Products with at most this many rows (output channels forward, input channels for the input gradient)
    /// take ``simple``: a blocked tile would be mostly padding.
    static let narrowLimit = 4
    /// The least depth of one weight-gradient range.
    static let minimumSplitDepth = 256
    /// The most weight-gradient ranges.
    static let maximumSplits = 64

    /// The forward pass: ``simple`` when O ≤ ``narrowLimit``, else ``blocked``.
    static func forward(_ g: ConvGeometry) -> ConvPlan { g.outChannels <= narrowLimit ? .simple : .blocked }

    /// The input gradient: ``simple`` when C ≤ ``narrowLimit``, else ``blocked``.
    static func input(_ g: ConvGeometry) -> ConvPlan { g.inChannels <= narrowLimit ? .simple : .blocked }

    /// The weight gradient dW[O, C·kh·kw] = dY[O, R]·colᵀ[R, C·kh·kw], R = N·HO·WO positions, with
    /// tiles = ⌈O/tileM⌉·⌈C·kh·kw/tileN⌉: ``blocked`` when tiles ≥ compute units, else R split into
    /// s = min(⌈CU/tiles⌉, ⌊R/256⌋, 64) ranges when s ≥ 2 (so that s·tiles work groups fill the device; the
    /// workspace holds s·O·C·kh·kw floats), else ``blocked``.
    static func weight(_ g: ConvGeometry, tiling: ConvTiling, computeUnits: Int) -> ConvPlan {
        let k = g.inChannels * g.kernelHeight * g.kernelWidth, positions = g.batch * g.outHeight * g.outWidth
        let tiles = (g.outChannels + tiling.tileM - 1) / tiling.tileM * ((k + tiling.tileN - 1) / tiling.tileN)
        guard tiles < computeUnits else { return .blocked }
        let ranges = min((computeUnits + tiles - 1) / tiles, positions / minimumSplitDepth, maximumSplits)
        return ranges >= 2 ? split(positions: positions, into: ranges, tileK: tiling.tileK) : .blocked
    }

    /// `positions` cut into at most `ranges` ranges, each a whole number of `tileK` slices deep.
    static func split(positions: Int, into ranges: Int, tileK: Int) -> ConvPlan {
        let depth = max(((positions + ranges - 1) / ranges + tileK - 1) / tileK * tileK, tileK)
        return .split(ranges: max((positions + depth - 1) / depth, 1), depth: depth)
    }
}
