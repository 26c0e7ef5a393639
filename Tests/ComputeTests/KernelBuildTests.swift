@testable import Compute
import Foundation
import Kernels
import Testing

/// The programs `autoencoder-bench ptxas` assembles, and its reading of NVIDIA's assembler output.
struct KernelBuildTests {
    @Test func nvidiaBuildsCoverEveryKernelWithItsLaunchSize() {
        let builds = KernelBuild.nvidia
        let families = Set(builds.map(\.family))
        #expect(families == Set(KernelLibrary.families.map(\.name) + ["gemm_tf32"]))
        for build in builds {
            #expect(!build.kernels.isEmpty, "\(build.family)")
            for kernel in build.kernels {
                #expect(build.workGroups[kernel] != nil, "\(kernel) has no launched work-group size")
            }
        }
        // Each tiling preset of gemm and conv, the nvidia one marked as the default.
        let gemm = builds.filter { $0.family == "gemm" }
        #expect(Set(gemm.map(\.variant)) == ["nvidia", "gpu", "cpu"])
        #expect(gemm.filter(\.isDefault).map(\.variant) == ["nvidia"])
        let nvidia = gemm.first { $0.isDefault }!
        #expect(nvidia.options == "-cl-std=CL1.2 " + GEMMTiling.nvidia.buildOptions)
        #expect(nvidia.workGroups["gemm_blocked"] == .fixed(256))
        #expect(nvidia.workGroups["gemm_splitk_reduce"] == .chosenByDriver)
        let tf32 = builds.first { $0.family == "gemm_tf32" }!
        #expect(tf32.options.hasSuffix("-DAEK_MMA_PTX"))
        #expect(tf32.workGroups["gemm_tf32"] == .fixed(OpenCLDevice.tf32Group))
    }

    @Test func unknownKernelHasNoLaunchSize() {
        #expect(OpenCLDevice.launchedWorkGroup(kernel: "no_such_kernel", gemm: .nvidia, conv: .nvidia) == nil)
    }

    /// `ptxas -v` output (CUDA 12.9) for two kernels, one with a non-inlined helper between them.
    static let log = """
        ptxas info    : 0 bytes gmem
        ptxas info    : Compiling entry function 'gemm_tiled' for 'sm_90'
        ptxas info    : Function properties for gemm_tiled
            0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
        ptxas info    : Used 37 registers, used 1 barriers, 2112 bytes smem
        ptxas info    : Compile time = 112.111 ms
        ptxas info    : Function properties for philox_normal_pair
            16 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
        ptxas info    : Compiling entry function 'gemm_blocked' for 'sm_90'
        ptxas info    : Function properties for gemm_blocked
            128 bytes stack frame, 120 bytes spill stores, 96 bytes spill loads
        ptxas info    : Used 128 registers, used 1 barriers, 128 bytes cumulative stack size, 8448 bytes smem, 400 bytes cmem[0]
        """

    @Test func parsesPtxasVerboseOutput() {
        let kernels = KernelResources.parse(ptxasLog: Self.log)
        #expect(kernels == [
            KernelResources(kernel: "gemm_tiled", architecture: "sm_90", registers: 37, spillStores: 0, spillLoads: 0,
                            stackFrame: 0, sharedMemory: 2112),
            KernelResources(kernel: "gemm_blocked", architecture: "sm_90", registers: 128, spillStores: 120, spillLoads: 96,
                            stackFrame: 128, sharedMemory: 8448),
        ])
    }

    /// NVIDIA's OpenCL driver under `-cl-nv-verbose` prefixes the property line with `ptxas` and names no architecture.
    @Test func parsesADriverBuildLog() {
        let log = """
            ptxas info    : 0 bytes gmem
            ptxas info    : Compiling entry function 'axpby' for 'sm_90'
            ptxas info    : Function properties for axpby
            ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
            ptxas info    : Used 12 registers, 392 bytes cmem[0]
            """
        #expect(KernelResources.parse(ptxasLog: log) == [
            KernelResources(kernel: "axpby", architecture: "sm_90", registers: 12, spillStores: 0, spillLoads: 0,
                            stackFrame: 0, sharedMemory: 0),
        ])
        #expect(KernelResources.parse(ptxasLog: "Build succeeded").isEmpty)
    }

    @Test func groupsPerSMFollowTheRegisterFileWarpsAndSharedMemory() {
        func kernel(registers: Int, shared: Int) -> KernelResources {
            KernelResources(kernel: "k", architecture: "sm_90", registers: registers, spillStores: 0, spillLoads: 0,
                            stackFrame: 0, sharedMemory: shared)
        }
        let h100 = KernelResources.sharedMemoryPerSM(architecture: "sm_90")
        // 128 registers × 256 work items = half the register file.
        #expect(kernel(registers: 128, shared: 6400).groupsPerSM(workItems: 256, sharedPerSM: h100) == 2)
        #expect(kernel(registers: 129, shared: 6400).groupsPerSM(workItems: 256, sharedPerSM: h100) == 1)
        // Few registers: 64 warps per SM bound it (8 groups of 8 warps), then 32 groups.
        #expect(kernel(registers: 16, shared: 0).groupsPerSM(workItems: 256, sharedPerSM: h100) == 8)
        #expect(kernel(registers: 16, shared: 0).groupsPerSM(workItems: 32, sharedPerSM: h100) == 32)
        // Shared memory: 100 KiB per group (+1 KiB reserved) fits twice in 228 KiB, once in sm_80's 164 KiB.
        #expect(kernel(registers: 32, shared: 100 * 1024).groupsPerSM(workItems: 128, sharedPerSM: h100) == 2)
        #expect(kernel(registers: 32, shared: 100 * 1024).groupsPerSM(
            workItems: 128, sharedPerSM: KernelResources.sharedMemoryPerSM(architecture: "sm_80")) == 1)
    }
}

/// How the driver's per-kernel report is asked for and kept.
struct DriverReportTests {
    @Test func onlyNVIDIAIsAskedForItsAssemblerReport() {
        func info(vendor: String) -> DeviceInfo { BlockTilingTests.info(gpu: true, vendor: vendor) }
        #expect(OpenCLDevice.verboseOption(for: info(vendor: "NVIDIA Corporation")) == " -cl-nv-verbose")
        #expect(OpenCLDevice.verboseOption(for: info(vendor: "AuthenticAMD")) == "")
        #expect(OpenCLDevice.verboseOption(for: info(vendor: "Intel(R) Corporation")) == "")
    }

    @Test func buildLogIsCachedBesideItsBinary() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("aek-cache-\(UInt64.random(in: 0...UInt64.max))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = KernelCache(identity: "platform\u{1F}device", directory: folder)
        let key = cache.key(source: "__kernel void k() {}", options: "-cl-std=CL1.2 -cl-nv-verbose")
        #expect(cache.loadLog(key: key) == "")
        cache.store(key: key, binary: [1, 2, 3], log: KernelBuildTests.log)
        #expect(cache.load(key: key) == [1, 2, 3])
        #expect(KernelResources.parse(ptxasLog: cache.loadLog(key: key)).map(\.kernel) == ["gemm_tiled", "gemm_blocked"])
    }
}
