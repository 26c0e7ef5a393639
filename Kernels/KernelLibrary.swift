/// The OpenCL C sources of every kernel family, embedded into the binary at build time.
public enum KernelLibrary {
    /// Definitions every family uses (activation codes, the Philox4x32-10 generator); prepended to each.
    public static let common = String(decoding: PackageResources.common_cl, as: UTF8.self)

    /// Each family's name and its source, without ``common``.
    public static let families: [(name: String, source: String)] = [
        ("gemm", PackageResources.gemm_cl),
        ("conv", PackageResources.conv_cl),
        ("elementwise", PackageResources.elementwise_cl),
        ("reduce", PackageResources.reduce_cl),
        ("random", PackageResources.random_cl),
        ("vae", PackageResources.vae_cl),
        ("loss", PackageResources.loss_cl),
        ("optimizer", PackageResources.optimizer_cl),
        ("quantize", PackageResources.quantize_cl),
        ("norm", PackageResources.norm_cl),
        ("tensor", PackageResources.tensor_cl),
    ].map { ($0.0, String(decoding: $0.1, as: UTF8.self)) }

    /// TF32 tensor-core products (`gemm_tf32`, `tf32_round`), without ``common``. Not among ``families``:
    /// it is built only when TF32 is asked for, with `-DAEK_MMA_PTX` for NVIDIA's inline PTX (other
    /// compilers reject it) or without, for the emulation that runs on any device.
    public static let gemmTF32 = String(decoding: PackageResources.gemm_tf32_cl, as: UTF8.self)
}
