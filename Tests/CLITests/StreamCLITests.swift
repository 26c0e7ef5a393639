import Foundation
import Testing

/// `train` on data streamed from disk: `--stream`, or automatically over `--memory-budget`, from a `.npy` file or
/// a folder of shards, resumable, and bad files refused with one line before training; the commands that use a
/// streamed run read its data a batch at a time.
@Suite struct StreamCLITests {
    /// 3,000 rows of 20 values, as one file and as three shards.
    static func writeActivations(in folder: URL) throws -> (file: URL, shards: URL) {
        var state: UInt64 = 0x1234
        let values = (0..<(3000 * 20)).map { _ -> Float in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 24)
        }
        let file = folder.appendingPathComponent("acts.npy")
        try DataAsWrittenTests.npy(descr: "<f4", shape: [3000, 20], payload: DataAsWrittenTests.float32(values)).write(to: file)
        let shards = folder.appendingPathComponent("cache")
        try FileManager.default.createDirectory(at: shards, withIntermediateDirectories: true)
        for (index, rows) in [0..<1000, 1000..<2200, 2200..<3000].enumerated() {
            let part = Array(values[(rows.lowerBound * 20)..<(rows.upperBound * 20)])
            try DataAsWrittenTests.npy(descr: "<f4", shape: [rows.count, 20], payload: DataAsWrittenTests.float32(part))
                .write(to: shards.appendingPathComponent("acts_\(index + 1).npy"))
        }
        return (file, shards)
    }

    static let common = ["train", "--block-rows", "128", "--epochs", "3", "--seed", "2"]

    static func weights(_ run: URL) throws -> Data { try Data(contentsOf: run.appendingPathComponent("model.safetensors")) }

    @Test func streamedRunsFromAFileAFolderAndTheBudgetAgree() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (file, shards) = try Self.writeActivations(in: folder)
        let forced = try CLIRunner.run(Self.common + ["--data", file.path, "--stream", "--out", folder.appendingPathComponent("forced").path])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(forced.stdout.contains("samples streamed from disk"))
        let auto = try CLIRunner.run(Self.common + ["--data", file.path, "--memory-budget", "0.1",
                                                    "--out", folder.appendingPathComponent("auto").path])
        #expect(auto.status == 0, "\(auto.stderr)")
        #expect(auto.stderr.contains("data: 240 kB as float32, over the memory budget of 100 kB: streaming it from disk in blocks of 128 rows"))
        let sharded = try CLIRunner.run(Self.common + ["--data", shards.path, "--stream", "--out", folder.appendingPathComponent("shards").path])
        #expect(sharded.status == 0, "\(sharded.stderr)")
        let reference = try Self.weights(folder.appendingPathComponent("forced"))
        #expect(try Self.weights(folder.appendingPathComponent("auto")) == reference)
        #expect(try Self.weights(folder.appendingPathComponent("shards")) == reference)
        let config = try String(contentsOf: folder.appendingPathComponent("forced/config.json"), encoding: .utf8)
        #expect(config.contains("\"blockRows\" : 128"))
        // under the budget the same file loads whole
        let whole = try CLIRunner.run(Self.common + ["--data", file.path, "--out", folder.appendingPathComponent("whole").path])
        #expect(whole.status == 0 && !whole.stdout.contains("streamed") && !whole.stderr.contains("streaming"))
    }

    @Test func aStreamedRunResumesAsIfUninterrupted() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (file, _) = try Self.writeActivations(in: folder)
        let straight = folder.appendingPathComponent("straight"), resumed = folder.appendingPathComponent("resumed")
        var args = Self.common + ["--data", file.path, "--stream"]
        args[args.firstIndex(of: "3")!] = "4"
        #expect(try CLIRunner.run(args + ["--out", straight.path]).status == 0)
        args[args.firstIndex(of: "4")!] = "2"
        #expect(try CLIRunner.run(args + ["--out", resumed.path]).status == 0)
        let more = try CLIRunner.run(["train", "--resume", resumed.path, "--epochs", "4"])
        #expect(more.status == 0, "\(more.stderr)")
        #expect(try Self.weights(resumed) == Self.weights(straight))
        let evaluated = try CLIRunner.run(["evaluate", "--run", resumed.path])
        #expect(evaluated.status == 0 && evaluated.stdout.contains("acts.npy-test"), "\(evaluated.stdout)\(evaluated.stderr)")
    }

    @Test func badFilesAreOneLineBeforeTraining() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let short = folder.appendingPathComponent("short.npy")
        let bytes = DataAsWrittenTests.npy(descr: "<f4", shape: [100, 4], payload: DataAsWrittenTests.float32(Array(repeating: 0.5, count: 390)))
        try bytes.write(to: short)
        let truncated = try CLIRunner.run(["train", "--data", short.path, "--stream", "--out", folder.appendingPathComponent("a").path])
        #expect(truncated.status != 0)
        #expect(truncated.stderr == "error: short.npy: truncated: header promises 128 + 100×4×4 bytes, file has 1688 bytes\n")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("a").path), "no half-made run folder")

        let mixed = folder.appendingPathComponent("mixed")
        try FileManager.default.createDirectory(at: mixed, withIntermediateDirectories: true)
        try DataAsWrittenTests.npy(descr: "<f4", shape: [50, 4], payload: DataAsWrittenTests.float32(Array(repeating: 0.5, count: 200)))
            .write(to: mixed.appendingPathComponent("0.npy"))
        try DataAsWrittenTests.npy(descr: "<f4", shape: [50, 5], payload: DataAsWrittenTests.float32(Array(repeating: 0.5, count: 250)))
            .write(to: mixed.appendingPathComponent("1.npy"))
        let disagreeing = try CLIRunner.run(["train", "--data", mixed.path, "--stream", "--out", folder.appendingPathComponent("b").path])
        #expect(disagreeing.status != 0)
        #expect(disagreeing.stderr == "error: 1.npy: mismatch: sample shape 5 differs from 0.npy's 4\n")

        let notStreamable = try CLIRunner.run(["train", "--data", "digits", "--stream"])
        #expect(notStreamable.status == 2)
        #expect(notStreamable.stderr.hasPrefix("error: --stream reads a .npy file or a folder of .npy shards, not digits"))
    }

    /// A streamed run trained for one epoch on `file`, in `folder`.
    static func streamedRun(in folder: URL, file: URL, model: [String] = []) throws -> URL {
        let run = folder.appendingPathComponent("run")
        var args = common + ["--data", file.path, "--stream", "--out", run.path] + model
        args[args.firstIndex(of: "3")!] = "1"
        let trained = try CLIRunner.run(args)
        #expect(trained.status == 0, "\(trained.stderr)")
        return run
    }

    /// `rows` × `width` values in [0, 1) from `seed`, as a float32 `.npy` file.
    static func writeRows(_ rows: Int, _ width: Int, seed: UInt64, to url: URL) throws {
        var state = seed
        let values = (0..<(rows * width)).map { _ -> Float in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 24)
        }
        try DataAsWrittenTests.npy(descr: "<f4", shape: [rows, width], payload: DataAsWrittenTests.float32(values)).write(to: url)
    }

    @Test func encodeStreamsAndWritesTheBytesOfTheResidentPath() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (file, _) = try Self.writeActivations(in: folder)
        let run = try Self.streamedRun(in: folder, file: file, model: ["--model", "vq-vae", "--latent-dim", "4"])
        // the run's own test split, streamed: as many codes as the test split has samples
        let own = folder.appendingPathComponent("own.npy")
        let encoded = try CLIRunner.run(["encode", "--run", run.path, "--out", own.path])
        #expect(encoded.status == 0 && encoded.stdout.contains("(acts.npy-test (streamed))"), "\(encoded.stdout)\(encoded.stderr)")
        let evaluated = try #require(CLIRunner.json(try CLIRunner.run(["evaluate", "--run", run.path, "--json"])))
        let samples = try #require(evaluated["samples"] as? Int)
        let header = String(decoding: try Data(contentsOf: own).prefix(128), as: UTF8.self)
        #expect(header.contains("'shape': (\(samples), 4)"), "\(header)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("own-indices.npy").path))
        // --no-stream loads the same split whole: the same bytes
        let whole = folder.appendingPathComponent("whole.npy")
        let loaded = try CLIRunner.run(["encode", "--run", run.path, "--no-stream", "--out", whole.path])
        #expect(loaded.status == 0 && !loaded.stdout.contains("streamed"), "\(loaded.stdout)\(loaded.stderr)")
        #expect(try Data(contentsOf: whole) == Data(contentsOf: own))
        #expect(try Data(contentsOf: folder.appendingPathComponent("whole-indices.npy")) == Data(contentsOf: folder.appendingPathComponent("own-indices.npy")))

        // other data: streamed (forced, or over the budget) or loaded whole, the same bytes
        let other = folder.appendingPathComponent("other.npy")
        try Self.writeRows(700, 20, seed: 77, to: other)
        for ext in ["npy", "csv"] {
            func encode(_ name: String, _ extra: [String]) throws -> CLIRunner.Result {
                try CLIRunner.run(["encode", "--run", run.path, "--data", other.path, "--out",
                                   folder.appendingPathComponent("\(name).\(ext)").path] + extra)
            }
            let resident = try encode("resident", [])
            #expect(resident.status == 0 && !resident.stdout.contains("streamed"), "\(resident.stdout)\(resident.stderr)")
            let forced = try encode("forced", ["--stream"])
            #expect(forced.status == 0 && forced.stdout.contains("(other.npy (streamed))"), "\(forced.stdout)\(forced.stderr)")
            let budget = try encode("budget", ["--memory-budget", "0.01"])
            #expect(budget.status == 0 && budget.stderr.contains("data: 56 kB as float32, over the memory budget of 10 kB: streaming it from disk"),
                    "\(budget.stderr)")
            let reference = try Data(contentsOf: folder.appendingPathComponent("resident.\(ext)"))
            for name in ["forced", "budget"] {
                #expect(try Data(contentsOf: folder.appendingPathComponent("\(name).\(ext)")) == reference, "\(name).\(ext)")
            }
            if ext == "npy" {
                let indices = try Data(contentsOf: folder.appendingPathComponent("resident-indices.npy"))
                #expect(try Data(contentsOf: folder.appendingPathComponent("forced-indices.npy")) == indices)
            }
        }

        // samples of another size: one line, no file
        let narrow = folder.appendingPathComponent("narrow.npy")
        try Self.writeRows(50, 7, seed: 1, to: narrow)
        let out = folder.appendingPathComponent("narrow-codes.npy")
        let refused = try CLIRunner.run(["encode", "--run", run.path, "--data", narrow.path, "--stream", "--out", out.path])
        #expect(refused.status == 1)
        #expect(refused.stderr == "error: narrow.npy: mismatch: samples have 7 features, the run was trained on 20\n")
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(!left.contains { $0.hasPrefix("narrow-codes") || $0.hasPrefix(".") }, "\(left)")

        // a run that loaded its data whole has no blocks to stream
        var args = Self.common + ["--data", file.path, "--out", folder.appendingPathComponent("resident-run").path]
        args[args.firstIndex(of: "3")!] = "1"
        #expect(try CLIRunner.run(args).status == 0)
        let notStreamed = try CLIRunner.run(["encode", "--run", folder.appendingPathComponent("resident-run").path, "--stream", "--out", out.path])
        #expect(notStreamed.status == 2)
        #expect(notStreamed.stderr.hasPrefix("error: --stream: this run loaded its data whole"), "\(notStreamed.stderr)")
    }

    @Test func featuresOfAStreamedRunEqualThoseOfItsRowsLoadedWhole() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (file, _) = try Self.writeActivations(in: folder)
        let run = try Self.streamedRun(in: folder, file: file, model: ["--model", "sparse", "--sae", "--top-k", "3", "--latent-dim", "12"])
        // the run's own data streams; the same rows under another path load whole
        let copy = folder.appendingPathComponent("copy.npy")
        try FileManager.default.copyItem(at: file, to: copy)
        let streamed = try CLIRunner.run(["features", "--run", run.path, "--top", "4", "--json"])
        let resident = try CLIRunner.run(["features", "--run", run.path, "--data", copy.path, "--top", "4", "--json"])
        let forced = try CLIRunner.run(["features", "--run", run.path, "--data", copy.path, "--stream", "--top", "4", "--json"])
        for result in [streamed, resident, forced] { #expect(result.status == 0, "\(result.stderr)") }
        let lists = try #require(CLIRunner.json(streamed)?["latents"] as? [[String: Any]])
        #expect(lists.count == 12 && lists.contains { ($0["top"] as? [Any])?.count == 4 })
        #expect(CLIRunner.json(streamed)?["samples"] as? Int == 3000)
        #expect(streamed.stdout == resident.stdout && forced.stdout == resident.stdout)
    }

    @Test func evaluateStreamsTheLikelihoodToo() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (file, _) = try Self.writeActivations(in: folder)
        let run = try Self.streamedRun(in: folder, file: file, model: ["--model", "vae", "--latent-dim", "3"])
        let own = try CLIRunner.run(["evaluate", "--run", run.path, "--iw-samples", "3", "--json"])
        #expect(own.status == 0, "\(own.stderr)")
        let line = try #require(CLIRunner.json(own))
        #expect((line["iw_log_likelihood"] as? Double)?.isFinite == true && (line["samples"] as? Int ?? 0) > 0)
        // other data streamed or loaded whole: the same loss and likelihood
        let other = folder.appendingPathComponent("other.npy")
        try Self.writeRows(500, 20, seed: 5, to: other)
        let arguments = ["evaluate", "--run", run.path, "--data", other.path, "--iw-samples", "3", "--json"]
        let resident = try CLIRunner.run(arguments)
        let streamed = try CLIRunner.run(arguments + ["--memory-budget", "0.01"])
        #expect(resident.status == 0 && streamed.status == 0, "\(resident.stderr)\(streamed.stderr)")
        #expect(streamed.stderr.contains("over the memory budget of 10 kB: streaming it from disk"))
        let a = try #require(CLIRunner.json(resident)), b = try #require(CLIRunner.json(streamed))
        #expect(a["samples"] as? Int == 500 && b["samples"] as? Int == 500)
        #expect(a["iw_log_likelihood"] as? Double == b["iw_log_likelihood"] as? Double && a["loss"] as? Double == b["loss"] as? Double)
    }

    @Test func detectScoresAStreamedRunAndStreamedFilesAsFilesLoadedWhole() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (file, _) = try Self.writeActivations(in: folder)
        let run = try Self.streamedRun(in: folder, file: file, model: ["--model", "ae", "--latent-dim", "4"])
        let own = try CLIRunner.run(["detect", "--run", run.path, "--json"])
        #expect(own.status == 0, "\(own.stderr)")
        let line = try #require(CLIRunner.json(own))
        #expect(line["threshold_data"] as? String == "the run's validation split" && (line["samples"] as? Int ?? 0) > 0)
        // files to score and to set the threshold on: streamed or loaded whole, the same scores and threshold
        let other = folder.appendingPathComponent("other.npy"), normal = folder.appendingPathComponent("normal.npy")
        try Self.writeRows(400, 20, seed: 8, to: other)
        try Self.writeRows(300, 20, seed: 9, to: normal)
        func detect(_ name: String, _ extra: [String]) throws -> CLIRunner.Result {
            try CLIRunner.run(["detect", "--run", run.path, "--data", other.path, "--validation", normal.path,
                               "--out", folder.appendingPathComponent(name).path] + extra)
        }
        let resident = try detect("resident.csv", [])
        let streamed = try detect("streamed.csv", ["--stream"])
        #expect(resident.status == 0 && streamed.status == 0, "\(resident.stderr)\(streamed.stderr)")
        #expect(streamed.stdout.contains("400 samples of other.npy (streamed)"), "\(streamed.stdout)")
        #expect(try Data(contentsOf: folder.appendingPathComponent("streamed.csv")) == Data(contentsOf: folder.appendingPathComponent("resident.csv")))
        let threshold = { (output: String) in output.split(separator: "\n").first { $0.hasPrefix("threshold") }.map(String.init) }
        #expect(threshold(streamed.stdout) != nil && threshold(streamed.stdout) == threshold(resident.stdout))
    }
}
