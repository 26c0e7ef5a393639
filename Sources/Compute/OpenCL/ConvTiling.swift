import Foundation

/// Tile sizes of the register-blocked OpenCL convolution kernels (`conv2d_*_blocked` in `Kernels/conv.cl`),
/// each pass an implicit GEMM (see ``BlockTiling``). The rows are output channels (forward, weight gradient) or
/// input channels (input gradient).
struct ConvTiling: BlockTiling {
    let tileM, tileN, tileK, workM, workN: Int

    /// NVIDIA GPUs: 32×128 tiles, 4×8 per work item (128 work items), 8-deep slices. 32 rows fit the 32 and 64
    /// channels of the conv VAE without padding; with 16-deep slices clang no longer keeps the 32 accumulators
    /// in registers (the PTX then has local-memory arrays).
    static let nvidia = ConvTiling(tileM: 32, tileN: 128, tileK: 8, workM: 4, workN: 8)
    /// Other GPUs: 32×64 tiles, 4×4 per work item (128 work items), 16-deep slices.
    static let gpu = ConvTiling(tileM: 32, tileN: 64, tileK: 16, workM: 4, workN: 4)
    /// CPU-like devices (PoCL): 64×128 tiles, 4×8 per work item (256 work items, which PoCL vectorizes across).
    static let cpu = ConvTiling(tileM: 64, tileN: 128, tileK: 8, workM: 4, workN: 8)
    static let variable = "AUTOENCODERKIT_CONV_TILING"
    static let macroPrefix = "CONV"
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
