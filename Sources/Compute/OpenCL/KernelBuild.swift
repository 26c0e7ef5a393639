import Foundation
import Kernels

/// One OpenCL program exactly as ``OpenCLDevice`` builds it: a kernel family's source (`common.cl` first) and its
/// build options, with the work-group size each of its kernels is launched with. ``nvidia`` lists every program an
/// NVIDIA device can build, so that a check can compile and assemble them without a GPU
/// (`autoencoder-bench ptxas`).
public struct KernelBuild: Sendable {
    /// The family (`gemm`, `conv`, …).
    public let family: String
    /// Which variant of the family: the tiling preset of `gemm` and `conv` (`nvidia`, `gpu`, `cpu`),
    /// `tensor cores` for `gemm_tf32`, empty for the rest.
    public let variant: String
    /// Whether a device uses this variant unless told otherwise (an NVIDIA GPU takes the `nvidia` presets).
    public let isDefault: Bool
    /// `common.cl`, a newline, then the family's source.
    public let source: String
    /// The options passed to `clBuildProgram`.
    public let options: String
    /// How each kernel's work groups are sized at launch, by kernel name.
    public let workGroups: [String: WorkGroup]

    /// The work-group size a kernel is launched with.
    public enum WorkGroup: Equatable, Sendable {
        /// This many work items.
        case fixed(Int)
        /// No local size is given: the driver picks one.
        case chosenByDriver
    }

    /// The names of the `__kernel` functions in ``source``, in order.
    public var kernels: [String] { OpenCLDevice.kernelNames(in: source) }

    /// Every program an NVIDIA GPU can build: each family with the options it is built with at start (the `gemm`
    /// and `conv` families with each tiling preset, since `AUTOENCODERKIT_GEMM_TILING` and
    /// `AUTOENCODERKIT_CONV_TILING` can force one), and `gemm_tf32` with its inline PTX.
    public static var nvidia: [KernelBuild] {
        var builds: [KernelBuild] = []
        for family in KernelLibrary.families {
            let source = KernelLibrary.common + "\n" + family.source
            switch family.name {
            case "gemm":
                for (name, tiling) in GEMMTiling.presets.sorted(by: { $0.key > $1.key }) {
                    builds.append(KernelBuild(family: family.name, variant: name, isDefault: tiling == .nvidia, source: source,
                                              gemm: tiling, conv: .nvidia))
                }
            case "conv":
                for (name, tiling) in ConvTiling.presets.sorted(by: { $0.key > $1.key }) {
                    builds.append(KernelBuild(family: family.name, variant: name, isDefault: tiling == .nvidia, source: source,
                                              gemm: .nvidia, conv: tiling))
                }
            default:
                builds.append(KernelBuild(family: family.name, variant: "", isDefault: true, source: source,
                                          gemm: .nvidia, conv: .nvidia))
            }
        }
        let tf32 = KernelLibrary.common + "\n" + KernelLibrary.gemmTF32
        builds.append(KernelBuild(family: "gemm_tf32", variant: "tensor cores", isDefault: true, source: tf32,
                                  options: OpenCLDevice.tf32Options(.tensorCores), gemm: .nvidia, conv: .nvidia))
        return builds
    }

    private init(family: String, variant: String, isDefault: Bool, source: String, options: String? = nil,
                 gemm: GEMMTiling, conv: ConvTiling) {
        self.family = family
        self.variant = variant
        self.isDefault = isDefault
        self.source = source
        self.options = options ?? OpenCLDevice.buildOptions(for: family, gemm: gemm, conv: conv)
        var groups: [String: WorkGroup] = [:]
        for kernel in OpenCLDevice.kernelNames(in: source) {
            groups[kernel] = OpenCLDevice.launchedWorkGroup(kernel: kernel, gemm: gemm, conv: conv)
        }
        workGroups = groups
    }
}

extension OpenCLDevice {
    /// Work items per group of the element-wise kernels launched with a small group (random draws, the VAE
    /// latent's per-element passes, nearest codes, gathers).
    static let elementGroup = 64
    /// The side of the 16×16 work groups of the one-output-per-work-item tiled kernels.
    static let tiledSide = 16

    /// The work-group size that ``launch(_:global:local:_:)`` gives `kernel`, nil for a name this table does not
    /// know. Every kernel of every family has an entry (a test checks it), so a new kernel must say how it is
    /// launched.
    static func launchedWorkGroup(kernel: String, gemm: GEMMTiling, conv: ConvTiling) -> KernelBuild.WorkGroup? {
        let fixed: Int
        switch kernel {
        case "gemm_blocked": fixed = gemm.local.elementCount
        case "conv2d_forward_blocked", "conv2d_backward_input_blocked", "conv2d_backward_weight_blocked":
            fixed = conv.local.elementCount
        case "gemm_tiled", "conv2d_forward_tiled": fixed = tiledSide * tiledSide
        case "gemm_tf32": fixed = tf32Group
        case "activate", "activation_backward", "axpby", "multiply", "masked_gradient", "adam_update", "sgd_update",
             "batch_norm_eval":
            fixed = pointwiseGroup
        case "top_k_rows": fixed = topKGroup
        case "loss_reconstruction", "loss_l1": fixed = lossGroup
        case "batch_norm_train", "batch_norm_backward": fixed = batchNormGroup
        case "reduce_rows": fixed = columnTile * rowLanes
        case "reduce_columns", "accumulate_row_sums", "reduce_all_partials", "reduce_all_final", "gather_rows",
             "gather_rows_convert_u8", "gather_rows_convert_f16", "gather_rows_convert_f32", "conv2d_backward_bias":
            fixed = reductionGroup
        case "vae_latent_forward": fixed = latentGroup
        case "random_uniform", "random_normal", "random_bernoulli", "corrupt_gaussian", "corrupt_replace",
             "vae_reparameterize", "vae_reparameterize_backward", "vae_kl_dimension_final", "vae_latent_backward",
             "vae_kl_backward", "nearest_code", "scatter_add_rows", "tf32_round", "conv2d_backward_input_gather":
            fixed = elementGroup
        case "fill", "clip_scale", "tensor_affine", "tensor_threshold_mask", "tensor_scale_rows", "gemm_splitk_reduce",
             "conv2d_backward_weight_reduce":
            return .chosenByDriver
        default: return nil
        }
        return .fixed(fixed)
    }
}
