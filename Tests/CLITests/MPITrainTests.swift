import Foundation
import Testing
import TestSupport

/// `mpirun -np N autoencoder train`: data-parallel training as a user starts it, each job under `timeout`, on the
/// bundled digits for an epoch or two. Skipped where Open MPI's `mpirun` is not installed, except in CI.
@Suite(.enabled(if: MPILaunch.runs, Comment(rawValue: MPILaunch.missing))) struct MPITrainTests {
    /// A small, quick network; every run adds its model options, `--batch-size` and `--out`.
    static let base = ["train", "--device", "cpu", "--hidden", "64", "--seed", "3"]

    /// `mpirun -q -np N --oversubscribe autoencoder …` (`-q`: without mpirun's own banners on failure).
    static func mpirun(_ ranks: Int, _ arguments: [String], extra: [String: String] = [:], seconds: Int = 120) throws -> ProductRun {
        try MPILaunch.run([try MPILaunch.required(), "-q", "-np", String(ranks), "--oversubscribe", CLIRunner.executable.path] + arguments,
                                 extra: extra, seconds: seconds)
    }

    /// The tool alone, in the same clean environment as the jobs.
    static func alone(_ arguments: [String]) throws -> ProductRun {
        try MPILaunch.run([CLIRunner.executable.path] + arguments, seconds: 120)
    }

    /// One rank under mpirun joins MPI and writes the same bytes as the process started alone.
    @Test func oneRankWritesTheSameModelAsNoLauncher() throws {
        let folder = try CLIRunner.temporaryFolder()
        let arguments = Self.base + ["--epochs", "2", "--batch-size", "32"]
        let single = try Self.alone(arguments + ["--out", folder.appendingPathComponent("alone").path])
        #expect(single.status == 0, "\(single.stderr)")
        let job = try Self.mpirun(1, arguments + ["--out", folder.appendingPathComponent("np1").path])
        #expect(job.status == 0, "\(job.stderr)")
        let alone = try Data(contentsOf: folder.appendingPathComponent("alone/model.safetensors"))
        #expect(alone == (try Data(contentsOf: folder.appendingPathComponent("np1/model.safetensors"))))
    }

    /// Two CPU ranks on a global batch of 32 (16 each) train the weights one process trains on batches of 32, to
    /// float rounding: for every tensor, max |two − one| ≤ 1e-5 · max |one|. Rank 0 alone prints and writes.
    ///
    /// The batch-norm VAE trains under Adam: the layers before its batch norms have no bias (a bias there has no
    /// gradient but rounding noise, which Adam turned into full steps that each rank took differently, so those
    /// biases and the running means wandered apart). A plain AE with batch norm trains with SGD: its code layer's
    /// bias feeds the decoder's first batch norm through a layer without bias, so it too is cancelled, and Adam
    /// would amplify its noise the same way.
    @Test(arguments: [["--model", "vae"], ["--model", "vq-vae", "--ema", "--keep-dead-codes"],
                      ["--model", "vae", "--batch-norm", "both"],
                      ["--model", "ae", "--batch-norm", "both", "--optimizer", "sgd", "--lr", "0.05"]])
    func twoRanksTrainTheWeightsOfOneProcess(model: [String]) throws {
        try Self.expectTwoRanksMatchOneProcess(model)
    }

    /// VQ-VAE's dead-code restarts under two ranks draw their encodings from the same rows as one process.
    @Test func deadCodeRestartsMatchOneProcess() throws {
        try Self.expectTwoRanksMatchOneProcess(["--model", "vq-vae", "--ema"])
    }

    /// Two ranks streaming a `.npy` from disk (each reading the rows of its half of every global batch) train the
    /// weights of one process streaming it.
    @Test func twoRanksStreamingTrainTheWeightsOfOneProcess() throws {
        let folder = try CLIRunner.temporaryFolder()
        let (file, _) = try StreamCLITests.writeActivations(in: folder)
        let arguments = Self.base + ["--data", file.path, "--stream", "--block-rows", "128", "--epochs", "2", "--batch-size", "32"]
        let single = try Self.alone(arguments + ["--out", folder.appendingPathComponent("one").path])
        #expect(single.status == 0, "\(single.stderr)")
        let job = try Self.mpirun(2, arguments + ["--out", folder.appendingPathComponent("two").path])
        #expect(job.status == 0, "\(job.stderr)")
        #expect(job.stdout.contains("samples streamed from disk") && job.stdout.contains("on 2 ranks"), "\(job.stdout)")
        try SafeTensorsFloats.expectClose(folder.appendingPathComponent("two/model.safetensors"),
                                          folder.appendingPathComponent("one/model.safetensors"), relative: 1e-5)
    }

    /// On PoCL as on the CPU (both ranks on the one OpenCL device, named `opencl:0`).
    @Test(.enabled(if: TestDevices.selectors.contains("opencl:0"), "no OpenCL device"))
    func twoRanksOnOpenCLTrainTheWeightsOfOneProcess() throws {
        try Self.expectTwoRanksMatchOneProcess(["--model", "vae"], device: "opencl:0")
    }

    /// Plain `--device opencl` gives each rank the device of its local rank: on a node with one OpenCL device the
    /// second rank says so in one line and the job exits 2.
    @Test(.enabled(if: TestDevices.selectors.filter { $0 != "cpu" } == ["opencl:0"], "this node has no OpenCL device or several"))
    func plainOpenCLNeedsADevicePerRank() throws {
        let folder = try CLIRunner.temporaryFolder()
        let job = try Self.mpirun(2, ["train", "--device", "opencl", "--epochs", "1", "--out", folder.appendingPathComponent("run").path])
        #expect(job.status == 2, "\(job.stderr)")
        #expect(job.stderr.contains("rank 1: error: --device opencl gives local rank 1 the OpenCL device number 1, but this node has 1 OpenCL device"),
                "\(job.stderr)")
    }

    static func expectTwoRanksMatchOneProcess(_ model: [String], device: String = "cpu") throws {
        let folder = try CLIRunner.temporaryFolder()
        let arguments = Self.base.map { $0 == "cpu" ? device : $0 } + model + ["--epochs", "2", "--batch-size", "32"]
        let single = try Self.alone(arguments + ["--out", folder.appendingPathComponent("one").path])
        #expect(single.status == 0, "\(single.stderr)")
        let job = try Self.mpirun(2, arguments + ["--out", folder.appendingPathComponent("two").path])
        #expect(job.status == 0, "\(job.stderr)")
        #expect(job.stdout.contains("on 2 ranks (rank 0 on \(device)"), "\(job.stdout)")
        // rank 0 alone prints: one line per epoch, one summary of the files
        #expect(job.stdout.split(separator: "\n").filter { $0.hasPrefix("epoch ") }.count == 2, "\(job.stdout)")
        #expect(job.stdout.split(separator: "\n").filter { $0.hasPrefix("wrote ") }.count == 1, "\(job.stdout)")
        #expect(!job.stderr.contains("rank 1"), "\(job.stderr)")
        try SafeTensorsFloats.expectClose(folder.appendingPathComponent("two/model.safetensors"),
                                          folder.appendingPathComponent("one/model.safetensors"), relative: 1e-5)
    }

    /// Interrupted after one epoch (by a small --epochs) and resumed under the same two ranks, a run ends with the
    /// bytes of an uninterrupted two-rank run; resuming it under another number of ranks is refused in one line.
    @Test func aTwoRankRunResumesExactly() throws {
        let folder = try CLIRunner.temporaryFolder()
        let run = folder.appendingPathComponent("run"), whole = folder.appendingPathComponent("whole")
        let arguments = Self.base + ["--batch-size", "32"]
        let first = try Self.mpirun(2, arguments + ["--epochs", "1", "--out", run.path])
        #expect(first.status == 0, "\(first.stderr)")

        let alone = try Self.alone(["train", "--resume", run.path, "--epochs", "3"])
        #expect(alone.status == 2, "\(alone.stderr)")
        #expect(alone.stderr.split(separator: "\n").count == 1, "\(alone.stderr)")
        #expect(alone.stderr.contains("was written by 2 ranks and this job has 1: resume it with mpirun -np 2"), "\(alone.stderr)")
        let four = try Self.mpirun(4, ["train", "--resume", run.path, "--epochs", "3"])
        #expect(four.status == 2 && four.stderr.contains("was written by 2 ranks and this job has 4"), "\(four.stderr)")

        let resumed = try Self.mpirun(2, ["train", "--resume", run.path, "--epochs", "3"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming \(run.path) after epoch 1"), "\(resumed.stderr)")
        let uninterrupted = try Self.mpirun(2, arguments + ["--epochs", "3", "--out", whole.path])
        #expect(uninterrupted.status == 0, "\(uninterrupted.stderr)")
        let model = try Data(contentsOf: run.appendingPathComponent("model.safetensors"))
        #expect(model == (try Data(contentsOf: whole.appendingPathComponent("model.safetensors"))))
    }

    /// A rank that fails mid-run (forced on rank 1 after epoch 2 by the test aid) ends the whole job, non-zero and
    /// within the 30 s `timeout` (a hang would exit 124), with its one line; rank 0's newest checkpoint is complete
    /// and a two-rank resume continues from it to the end.
    @Test func aFailingRankEndsTheJobAndLeavesTheCheckpoint() throws {
        let folder = try CLIRunner.temporaryFolder()
        let run = folder.appendingPathComponent("run")
        let arguments = Self.base + ["--batch-size", "32", "--epochs", "6"]
        let job = try Self.mpirun(2, arguments + ["--out", run.path],
                                  extra: ["AUTOENCODERKIT_FAIL_RANK": "1", "AUTOENCODERKIT_FAIL_EPOCH": "2"], seconds: 30)
        #expect(job.status == 1, "\(job.status) \(job.stderr)")
        #expect(job.stderr.contains("rank 1: error: rank 1 failed after epoch 2"), "\(job.stderr)")
        let checkpoints = try FileManager.default.contentsOfDirectory(atPath: run.appendingPathComponent("checkpoints").path)
            .filter { $0.hasPrefix("epoch-") && $0.hasSuffix(".safetensors") }
        #expect(!checkpoints.isEmpty && !checkpoints.contains("epoch-0006.safetensors"), "\(checkpoints)")
        let resumed = try Self.mpirun(2, ["train", "--resume", run.path])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming \(run.path) after epoch"), "\(resumed.stderr)")
        #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent("model.safetensors").path))
    }

    /// A rank that stops taking part (SIGSTOP, as a hung driver call would) is caught by the watchdog of the rank
    /// waiting for it: one line naming the limit (`AUTOENCODERKIT_COLLECTIVE_TIMEOUT=2`), and the job ends, exit 1.
    @Test func aStoppedRankIsCaughtByTheWatchdog() throws {
        let mpirun = try MPILaunch.required()
        let folder = try CLIRunner.temporaryFolder()
        let run = folder.appendingPathComponent("run")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["timeout", "60", mpirun, "-q", "-np", "2", "--oversubscribe", CLIRunner.executable.path]
            + Self.base + ["--batch-size", "32", "--epochs", "1000", "--out", run.path]
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMI") }
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        environment["AUTOENCODERKIT_COLLECTIVE_TIMEOUT"] = "2"
        process.environment = environment
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let checkpoint = run.appendingPathComponent("checkpoints/epoch-0001.safetensors")
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && process.isRunning && !FileManager.default.fileExists(atPath: checkpoint.path) {
            Thread.sleep(forTimeInterval: 0.02)
        }
        // timeout → mpirun → the two ranks
        func children(_ pid: Int32) -> [Int32] {
            let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
            return text.split(separator: " ").compactMap { Int32($0) }
        }
        let ranks = children(process.processIdentifier).flatMap(children)
        #expect(ranks.count == 2, "\(ranks)")
        if let stopped = ranks.last { kill(stopped, SIGSTOP) }
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1, "\(process.terminationStatus) \(stderr)")
        #expect(stderr.contains(": no collective completed in 2 s; a rank stopped taking part"), "\(stderr)")
    }

    /// Without --out, rank 0 alone picks and creates the run folder: one `runs/vae-digits`, no `vae-digits-2`.
    @Test func onlyRankZeroCreatesTheAutoNamedFolder() throws {
        let folder = try CLIRunner.temporaryFolder()
        let mpirun = try MPILaunch.required()
        let job = try MPILaunch.run([mpirun, "-q", "-np", "2", "--oversubscribe", CLIRunner.executable.path]
                                    + Self.base + ["--epochs", "1", "--batch-size", "32"], in: folder, seconds: 120)
        #expect(job.status == 0, "\(job.stderr)")
        let runs = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("runs").path)
        #expect(runs == ["vae-digits"], "\(runs)")
    }

    /// A global batch that does not divide by the ranks: exit 2, one line from rank 0, no run folder.
    @Test func aBatchThatDoesNotDivideIsAUsageError() throws {
        let folder = try CLIRunner.temporaryFolder()
        let run = folder.appendingPathComponent("run")
        let job = try Self.mpirun(2, Self.base + ["--epochs", "2", "--batch-size", "33", "--out", run.path])
        #expect(job.status == 2, "\(job.stderr)")
        #expect(job.stderr == "error: --batch-size 33 is the global batch and must divide by the 2 ranks (e.g. --batch-size 32)\n")
        #expect(!FileManager.default.fileExists(atPath: run.path))
    }
}

/// The tensors of a `.safetensors` file, read without the library (the header is JSON after its 8-byte
/// little-endian length): F32 tensors as floats, any other (batch norm's I64 step count) as raw bytes.
enum SafeTensorsFloats {
    struct Tensor {
        let dtype: String
        let bytes: Data
        var floats: [Float] { bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } }
    }

    static func read(_ url: URL) throws -> [String: Tensor] {
        let data = try Data(contentsOf: url)
        let length = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try #require(try JSONSerialization.jsonObject(with: data.subdata(in: 8..<8 + length)) as? [String: Any])
        var tensors: [String: Tensor] = [:]
        for (name, entry) in header where name != "__metadata__" {
            let fields = try #require(entry as? [String: Any])
            let offsets = try #require(fields["data_offsets"] as? [Int])
            tensors[name] = Tensor(dtype: try #require(fields["dtype"] as? String),
                                   bytes: data.subdata(in: 8 + length + offsets[0]..<8 + length + offsets[1]))
        }
        return tensors
    }

    /// Every F32 tensor of `url` within `relative` · max |reference| of `reference`'s, element by element; every
    /// other tensor equal byte for byte.
    static func expectClose(_ url: URL, _ reference: URL, relative: Float) throws {
        let values = try read(url), expected = try read(reference)
        #expect(values.keys.sorted() == expected.keys.sorted())
        for (name, tensor) in expected {
            guard let other = values[name], other.dtype == tensor.dtype, other.bytes.count == tensor.bytes.count else {
                Issue.record("\(name): missing, or of another type or size")
                continue
            }
            guard tensor.dtype == "F32" else {
                #expect(other.bytes == tensor.bytes, "\(name)")
                continue
            }
            let a = other.floats, b = tensor.floats
            let scale = b.map(abs).max() ?? 0
            let difference = zip(a, b).map { abs($0 - $1) }.max() ?? 0
            #expect(difference <= relative * scale, "\(name): max |a − b| \(difference), max |b| \(scale)")
        }
    }
}
