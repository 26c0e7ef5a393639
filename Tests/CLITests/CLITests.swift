import Foundation
import Testing

@Suite struct CLITests {
    static let openCLExpected = ProcessInfo.processInfo.environment["CI"] == "true"

    @Test func devicesListsTheCPUAndOpenCL() throws {
        let result = try CLIRunner.run(["devices"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("cpu "))
        if Self.openCLExpected { #expect(result.stdout.contains("opencl:0 ")) }
        #expect(result.stdout.contains("<- auto"))
    }

    /// `--verbose` opens each OpenCL device and says what its driver reported per kernel: PoCL reports nothing, and
    /// says so; NVIDIA's driver lists registers and spills (KernelResources parses its log).
    @Test func devicesVerboseReportsEachOpenCLDevicesKernels() throws {
        let result = try CLIRunner.run(["devices", "--verbose"])
        #expect(result.status == 0)
        if Self.openCLExpected {
            let report = result.stdout.split(separator: "\n").filter { $0.contains("kernels: ") || $0.contains(" registers, spills ") }
            #expect(!report.isEmpty, "\(result.stdout)")
        }
    }

    @Test func withoutAnOpenCLPlatformOnlyTheCPUIsListedAndTrainingWorks() throws {
        let empty = try CLIRunner.temporaryFolder()
        let environment = ["OCL_ICD_VENDORS": empty.path, "OPENCL_VENDOR_PATH": empty.path]
        let devices = try CLIRunner.run(["devices"], environment: environment)
        #expect(devices.status == 0)
        #expect(!devices.stdout.contains("opencl:"))
        #expect(devices.stdout.contains("cpu "))
        let train = try CLIRunner.run(["train", "--model", "ae", "--epochs", "1", "--out", empty.appendingPathComponent("run").path,
                                       "--json"], environment: environment)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(CLIRunner.json(train)?["device"] as? String == "cpu")
    }

    @Test(arguments: ["cpu", "opencl:0"])
    func trainWritesARunThatEvaluateReads(device: String) throws {
        let listed = try CLIRunner.run(["devices"]).stdout.contains("opencl:0")
        if device != "cpu" && !Self.openCLExpected && !listed { return }
        let folder = try CLIRunner.temporaryFolder()
        let run = folder.appendingPathComponent("vae")
        let train = try CLIRunner.run(["train", "--epochs", "3", "--device", device, "--out", run.path, "--json"])
        #expect(train.status == 0, "\(train.stderr)")
        let line = try #require(CLIRunner.json(train), "no JSON line in \(train.stdout)")
        #expect(line["model"] as? String == "vae")
        #expect(line["epochs"] as? Int == 3)
        let test = try #require(line["test"] as? [String: Any])
        #expect((test["reconstruction"] as? Double ?? 0) > 0)
        #expect((line["validation"] as? [String: Any])?["loss"] != nil)
        for file in ["config.json", "model.safetensors", "metrics.csv", "checkpoints/best.safetensors",
                     "checkpoints/epoch-0003.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent(file).path), "missing \(file)")
        }
        let metrics = try String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8)
        #expect(metrics.split(separator: "\n").count == 4)
        let dimensions = try String(contentsOf: run.appendingPathComponent("kl_dimensions.csv"), encoding: .utf8)
        #expect(dimensions.hasPrefix("epoch,kl_0,kl_1,"))
        #expect(dimensions.split(separator: "\n").count == 4)

        let evaluate = try CLIRunner.run(["evaluate", "--run", run.path, "--device", device, "--json", "--iw-samples", "5"])
        #expect(evaluate.status == 0, "\(evaluate.stderr)")
        let evaluation = try #require(CLIRunner.json(evaluate))
        #expect(evaluation["samples"] as? Int == 297)
        let iw = try #require(evaluation["iw_log_likelihood"] as? Double)
        let elbo = -(try #require(evaluation["loss"] as? Double))
        #expect(iw > elbo - 0.5, "IWAE bound \(iw) should not fall well below the ELBO \(elbo)")

        let resumed = try CLIRunner.run(["train", "--resume", run.path, "--epochs", "4", "--device", device, "--json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(CLIRunner.json(resumed)?["epochs"] as? Int == 4)
        #expect(resumed.stderr.contains("resuming"))
    }

    @Test(arguments: [
        (["train", "--model", "transformer"], "unknown --model"),
        (["train", "--latent-dim", "0"], "--latent-dim must be positive"),
        (["train", "--batch-size", "100000"], "larger than the"),
        (["train", "--arch", "conv", "--data", "breast-cancer"], "--arch conv needs image data"),
        (["train", "--device", "tpu"], "unknown device"),
        (["train", "--kl-schedule", "sometimes"], "invalid schedule"),
        (["train", "--no-such-option"], "Unknown option"),
    ])
    func usageErrorsExitWithTwoAndOneLine(arguments: [String], message: String) throws {
        let folder = try CLIRunner.temporaryFolder()
        let result = try CLIRunner.run(arguments + ["--out", folder.appendingPathComponent("run").path])
        #expect(result.status == 2, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("run/model.safetensors").path))
    }

    @Test func badDataExitsWithOneAndNamesTheFile() throws {
        let folder = try CLIRunner.temporaryFolder()
        let csv = folder.appendingPathComponent("ragged.csv")
        try "a,b,c\n1,2,3\n4,5\n".write(to: csv, atomically: true, encoding: .utf8)
        let result = try CLIRunner.run(["train", "--data", csv.path, "--out", folder.appendingPathComponent("run").path])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("error: ") && result.stderr.contains("ragged.csv"))
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }
}

@Suite struct LinkageTests {
    /// OpenCL and Open MPI are opened with dlopen at run time (MPI only under mpirun): the binary must depend on
    /// neither libOpenCL nor libmpi at link time.
    @Test func theBinaryDoesNotLinkOpenCLOrMPI() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ldd", CLIRunner.executable.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(output.contains("libopenblas"), "\(output)")
        #expect(!output.contains("libOpenCL"), "\(output)")
        #expect(!output.contains("libmpi"), "\(output)")
    }
}

@Suite struct DeviceFaultTests {
    /// A kernel build that fails names the device and the family, with the build log, on one line, and exits 1.
    @Test func aFailingKernelBuildIsReportedClearly() throws {
        guard try CLIRunner.run(["devices"]).stdout.contains("opencl:0") else {
            #expect(ProcessInfo.processInfo.environment["CI"] != "true")
            return
        }
        let folder = try CLIRunner.temporaryFolder()
        let result = try CLIRunner.run(["train", "--epochs", "1", "--device", "opencl:0", "--out", folder.appendingPathComponent("run").path],
                                       environment: ["AUTOENCODERKIT_OPENCL_OPTIONS": "-no-such-option", "AUTOENCODERKIT_CACHE_DIR": "off"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("error: kernel family"), "\(result.stderr)")
        #expect(result.stderr.contains("opencl:0") && result.stderr.contains("--device cpu"))
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }
}

@Suite struct NonFiniteTests {
    /// A diverging learning rate stops training with a clear message and exit code 1, keeping earlier checkpoints.
    @Test func divergenceStopsWithAClearMessage() throws {
        let folder = try CLIRunner.temporaryFolder()
        let result = try CLIRunner.run(["train", "--model", "ae", "--optimizer", "sgd", "--lr", "1e6", "--likelihood", "gaussian",
                                        "--epochs", "5", "--device", "cpu", "--out", folder.appendingPathComponent("run").path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("NaN or infinite") && result.stderr.contains("lower --lr"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("run/model.safetensors").path))
    }
}
