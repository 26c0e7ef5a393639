@testable import Compute
import Testing

/// The preset choice both register-blocked families share (``BlockTiling/choose(for:environment:)``).
@Suite struct BlockTilingTests {
    static func info(gpu: Bool, vendor: String) -> DeviceInfo {
        DeviceInfo(kind: .opencl, index: 0, name: "x", vendor: vendor, driver: "1", computeUnits: 8, memoryBytes: 1 << 30, isGPU: gpu)
    }

    /// NVIDIA GPUs get `nvidia`, other GPUs `gpu`, other devices `cpu`; `variable` forces a preset by name and an
    /// unknown name is ignored.
    static func checkChoice<T: BlockTiling>(_: T.Type, variable: String, forcing name: String, expecting forced: T) {
        #expect(T.choose(for: info(gpu: true, vendor: "NVIDIA Corporation"), environment: [:]) == T.nvidia)
        #expect(T.choose(for: info(gpu: true, vendor: "Advanced Micro Devices, Inc."), environment: [:]) == T.gpu)
        #expect(T.choose(for: info(gpu: false, vendor: "pocl"), environment: [:]) == T.cpu)
        #expect(T.choose(for: info(gpu: false, vendor: "pocl"), environment: [variable: name]) == forced)
        #expect(T.choose(for: info(gpu: true, vendor: "NVIDIA"), environment: [variable: "bogus"]) == T.nvidia)
    }

    @Test func tilingFollowsTheDevice() {
        Self.checkChoice(GEMMTiling.self, variable: "AUTOENCODERKIT_GEMM_TILING", forcing: "nvidia", expecting: .nvidia)
        Self.checkChoice(ConvTiling.self, variable: "AUTOENCODERKIT_CONV_TILING", forcing: "gpu", expecting: .gpu)
    }

    @Test func buildOptionsDefineTheFamilysMacros() {
        #expect(GEMMTiling.nvidia.buildOptions == "-DGEMM_TM=128 -DGEMM_TN=64 -DGEMM_TK=8 -DGEMM_WM=8 -DGEMM_WN=4")
        #expect(ConvTiling.nvidia.buildOptions == "-DCONV_TM=32 -DCONV_TN=128 -DCONV_TK=8 -DCONV_WM=4 -DCONV_WN=8")
        #expect(ConvTiling.gpu.local == [16, 8, 1])
    }
}
