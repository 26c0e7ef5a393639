import Foundation
import Testing

/// `--precision`: TF32 where the device has it, otherwise a one-line warning and FP32.
@Suite struct PrecisionCLITests {
    @Test func tf32OnTheCPUWarnsAndTrainsInFP32() throws {
        let folder = try CLIRunner.temporaryFolder()
        let run = folder.appendingPathComponent("run")
        let result = try CLIRunner.run(["train", "--model", "ae", "--data", "breast-cancer", "--epochs", "2", "--device", "cpu",
                                        "--precision", "tf32", "--out", run.path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let warnings = result.stderr.split(separator: "\n").filter { $0.contains("--precision tf32") }
        #expect(warnings.count == 1 && warnings[0].contains("NVIDIA GPU") && warnings[0].contains("using fp32"), "\(result.stderr)")
        #expect(CLIRunner.json(result)?["precision"] as? String == "fp32")
        let config = try String(contentsOf: run.appendingPathComponent("config.json"), encoding: .utf8)
        #expect(config.contains("\"precision\"") && config.contains("\"fp32\""), "\(config)")
    }

    /// On OpenCL with the emulated TF32 kernel (`AUTOENCODERKIT_TF32_EMULATE=1`) the run trains at TF32.
    @Test func tf32OnOpenCLWithTheEmulationTrainsAtTF32() throws {
        guard try CLIRunner.run(["devices"]).stdout.contains("opencl:0") else { return }
        let folder = try CLIRunner.temporaryFolder()
        let result = try CLIRunner.run(["train", "--model", "ae", "--data", "breast-cancer", "--epochs", "2", "--device", "opencl:0",
                                        "--precision", "tf32", "--out", folder.appendingPathComponent("run").path, "--json"],
                                       environment: ["AUTOENCODERKIT_TF32_EMULATE": "1"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains("warning"), "\(result.stderr)")
        #expect(CLIRunner.json(result)?["precision"] as? String == "tf32")
    }

    @Test func anUnknownPrecisionIsAUsageError() throws {
        let folder = try CLIRunner.temporaryFolder()
        let result = try CLIRunner.run(["train", "--precision", "fp16", "--out", folder.appendingPathComponent("run").path])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("--precision"), "\(result.stderr)")
    }
}
