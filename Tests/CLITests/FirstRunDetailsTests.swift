import Foundation
import Testing

/// Small things a new user meets on a first run.
@Suite struct FirstRunDetailsTests {
    /// The repository root (this file is Tests/CLITests/FirstRunDetailsTests.swift).
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The headline command writes runs/ inside the clone: git ignores it.
    @Test func runsAreIgnoredByGit() throws {
        let ignore = try String(contentsOf: Self.repository.appendingPathComponent(".gitignore"), encoding: .utf8)
        let lines = ignore.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.contains("/runs/") || lines.contains("runs/"), "\(lines)")
    }

    /// `--device gpu` takes the first OpenCL GPU, and where there is none it says so instead of picking a CPU driver.
    @Test func gpuMeansAGPU() throws {
        let devices = try CLIRunner.run(["devices"]).stdout
        let hasGPU = devices.split(separator: "\n").contains { $0.hasPrefix("opencl:") && $0.hasSuffix("<- auto") }
        let folder = try CLIRunner.temporaryFolder()
        let train = try CLIRunner.run(["train", "--model", "ae", "--epochs", "1", "--device", "gpu", "--json",
                                       "--out", folder.appendingPathComponent("run").path])
        if hasGPU {
            #expect(train.status == 0, "\(train.stderr)")
            #expect((CLIRunner.json(train)?["device"] as? String)?.hasPrefix("opencl:") == true)
        } else {
            #expect(train.status == 2, "\(train.stderr)")
            #expect(train.stderr.hasPrefix("error: no OpenCL GPU found"), "\(train.stderr)")
            #expect(train.stderr.split(separator: "\n").count == 1, "\(train.stderr)")
        }
        let help = try CLIRunner.run(["train", "--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(help.contains("gpu (the first OpenCL GPU; an error without one)"), "--device gpu is documented: \(help)")
    }

    @Test(arguments: ["abc", "0", "-1"])
    func anUnusableThreadCountIsRefused(value: String) throws {
        let result = try CLIRunner.run(["devices"], environment: ["AUTOENCODERKIT_THREADS": value])
        #expect(result.status == 2, "\(result.stdout)")
        #expect(result.stderr == "error: AUTOENCODERKIT_THREADS must be a positive number of threads, got '\(value)'\n")
        #expect(try CLIRunner.run(["devices"], environment: ["AUTOENCODERKIT_THREADS": "1"]).status == 0)
    }

    /// "1 epoch", and the final line lists the files the run folder has (kl_dimensions.csv for a VAE only).
    @Test func theTrainingLinesSayWhatHappened() throws {
        let folder = try CLIRunner.temporaryFolder()
        let vae = folder.appendingPathComponent("vae")
        let trained = try CLIRunner.run(["train", "--epochs", "1", "--device", "cpu", "--out", vae.path])
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stdout.contains("1350 samples, 1 epoch on cpu"), "\(trained.stdout)")
        #expect(trained.stdout.contains("wrote \(vae.path)/: model.safetensors, config.json, metrics.csv, kl_dimensions.csv, checkpoints/ ("),
                "\(trained.stdout)")
        let ae = folder.appendingPathComponent("ae")
        let plain = try CLIRunner.run(["train", "--model", "ae", "--epochs", "2", "--device", "cpu", "--out", ae.path])
        #expect(plain.stdout.contains("2 epochs on cpu"), "\(plain.stdout)")
        #expect(plain.stdout.contains("wrote \(ae.path)/: model.safetensors, config.json, metrics.csv, checkpoints/ ("),
                "\(plain.stdout)")
    }

    /// `sweep` takes every `train` option but --latent-dim, and its help says so without listing it.
    @Test func sweepHelpDoesNotListLatentDim() throws {
        let help = try CLIRunner.run(["sweep", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("--latent-dims"))
        let options = help.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(!options.contains { $0.hasPrefix("--latent-dim <") }, "\(help.stdout)")
        #expect(options.contains { $0.hasPrefix("--latent-dims <") })
        let refused = try CLIRunner.run(["sweep", "--latent-dim", "4"])
        #expect(refused.status == 2 && refused.stderr.contains("sweep takes --latent-dims, not --latent-dim"), "\(refused.stderr)")
        #expect(try CLIRunner.run(["train", "--help"]).stdout.contains("--latent-dim <latent-dim>"))
    }
}
