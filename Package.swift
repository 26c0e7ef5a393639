// swift-tools-version:6.0
import PackageDescription

/// OpenCL C sources, one file per kernel family, embedded into the binary at build time
/// (`gemm_tf32` is built only on request: see Kernels/README.md).
let kernelFamilies = ["gemm", "conv", "elementwise", "reduce", "random", "vae", "loss", "optimizer", "quantize", "norm", "tensor", "gemm_tf32"]

let package = Package(
    name: "AutoencoderKit",
    products: [
        .library(name: "AutoencoderKit", targets: ["AutoencoderKit"]),
        .executable(name: "autoencoder", targets: ["autoencoder"]),
        .executable(name: "autoencoder-bench", targets: ["autoencoder-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C shims: OpenCL is loaded with dlopen at run time, so nothing links libOpenCL.
        .target(name: "COpenCL", linkerSettings: [.linkedLibrary("dl")]),
        // The CPU backend's element-wise hot loops, compiled once per x86-64 instruction set level.
        .target(name: "CPUKernels"),
        .systemLibrary(name: "CBLAS"),
        .systemLibrary(name: "CZlib"),
        .target(
            name: "Kernels",
            path: "Kernels",
            exclude: ["README.md"],
            resources: (["common"] + kernelFamilies).map { .embedInCode("\($0).cl") }
        ),
        .target(name: "Compute", dependencies: ["COpenCL", "CPUKernels", "CBLAS", "Kernels"]),
        .target(name: "Layers", dependencies: ["Compute"]),
        // Ranks of a data-parallel job: Open MPI, loaded with dlopen at run time, or a single process.
        .target(name: "Distributed", linkerSettings: [.linkedLibrary("dl")]),
        .target(
            name: "Autoencoders",
            dependencies: ["Layers", "Distributed", "CZlib"],
            exclude: ["Resources/README.md"],
            // Data small enough to ship (Resources/README.md): `PackageResources.wdbc_csv` and so on.
            resources: [
                "digits-train-images-idx3-ubyte.gz", "digits-train-labels-idx1-ubyte.gz",
                "digits-test-images-idx3-ubyte.gz", "digits-test-labels-idx1-ubyte.gz",
                "wdbc.csv",
            ].map { .embedInCode("Resources/\($0)") }
        ),
        .target(name: "AutoencoderKit", dependencies: ["Compute", "Layers", "Autoencoders", "Distributed"]),
        .executableTarget(
            name: "autoencoder",
            dependencies: ["AutoencoderKit", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "autoencoder-bench",
            dependencies: ["AutoencoderKit", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Benchmarks",
            exclude: ["README.md", "torch_side_by_side.py", "anomaly_side_by_side.py", "sae_side_by_side.py", "gpu_session.sh", "anchors"]
        ),
        // Device list and numeric checks shared by the test targets.
        .target(name: "TestSupport", dependencies: ["Compute"], path: "Tests/TestSupport"),
        .testTarget(name: "ComputeTests", dependencies: ["Compute", "TestSupport"]),
        .testTarget(name: "LayersTests", dependencies: ["Layers", "TestSupport"]),
        // Runs the built `autoencoder-bench allreduce` under mpirun.
        .testTarget(name: "DistributedTests", dependencies: ["Distributed", "autoencoder-bench", "TestSupport"]),
        .testTarget(
            name: "AutoencodersTests",
            dependencies: ["Autoencoders", "Distributed", "TestSupport"],
            exclude: ["Interop"],
            resources: [.copy("Corpus")]
        ),
        // Every kernel at edge shapes with the GPU tiling presets against the CPU backend; on Oclgrind in CI.
        .testTarget(name: "KernelCheckTests", dependencies: ["Compute", "Layers", "Autoencoders", "Kernels", "TestSupport"],
                    exclude: ["oclgrind.sh"]),
        // Runs the built `autoencoder` binary as a user would.
        .testTarget(name: "CLITests", dependencies: ["autoencoder", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
