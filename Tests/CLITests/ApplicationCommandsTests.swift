import Foundation
import Testing

/// `reconstruct`, `sample`, `interpolate`, `traverse`, `arithmetic`, `encode`, `report` and `train --report` on
/// tiny runs trained once for the whole suite.
@Suite struct ApplicationCommandsTests {
    /// A run folder trained by the CLI with `arguments` (plus `--out` and `--device cpu`), or the failure.
    static func train(_ name: String, _ arguments: [String]) -> Result<URL, Error> {
        Result {
            let run = try CLIRunner.temporaryFolder().appendingPathComponent(name)
            let result = try CLIRunner.run(["train"] + arguments + ["--out", run.path, "--device", "cpu"])
            guard result.status == 0 else { throw CLIFailure(message: result.stderr) }
            return run
        }
    }

    struct CLIFailure: Error { let message: String }

    static let vae = train("vae", ["--epochs", "1", "--hidden", "32", "--latent-dim", "3", "--report"])
    static let vq = train("vq", ["--model", "vq-vae", "--epochs", "1", "--hidden", "32", "--latent-dim", "4",
                                 "--code-dim", "2", "--codebook-size", "8"])
    static let table = train("table", ["--model", "ae", "--data", "breast-cancer", "--epochs", "1", "--hidden", "16",
                                       "--latent-dim", "2"])

    /// Width and height from a PNG file's signature and IHDR chunk, or nil when it is not a PNG.
    static func pngSize(_ url: URL) -> (width: Int, height: Int)? {
        guard let bytes = try? Array(Data(contentsOf: url)), bytes.count > 33,
              bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]),
              Array(bytes[12..<16]) == Array("IHDR".utf8) else { return nil }
        func word(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (word(16), word(20))
    }

    @Test func trainReportWritesThePicturesAndThePage() throws {
        let run = try Self.vae.get()
        for name in ["loss.png", "latent.png"] {
            let size = try #require(Self.pngSize(run.appendingPathComponent(name)), "\(name) is not a PNG")
            #expect(size.width >= 700 && size.height >= 400)
        }
        let page = run.appendingPathComponent("report.html")
        let html = try String(contentsOf: page, encoding: .utf8)
        #expect(html.components(separatedBy: "data:image/png;base64,").count - 1 == 4)
        try FileManager.default.removeItem(at: page)
        let rebuilt = try CLIRunner.run(["report", "--run", run.path, "--device", "cpu"])
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        #expect(FileManager.default.fileExists(atPath: page.path))
    }

    /// Every device the CLI lists (`cpu`, and `opencl:N` where OpenCL is present; always in CI).
    static let devices: [String] = {
        let listed = (try? CLIRunner.run(["devices"]).stdout) ?? ""
        let ci = ProcessInfo.processInfo.environment["CI"] == "true"
        return ["cpu"] + (listed.contains("opencl:0") || ci ? ["opencl:0"] : [])
    }()

    @Test(arguments: devices)
    func imageCommandsWritePictures(device: String) throws {
        let run = try Self.vae.get()
        let out = try CLIRunner.temporaryFolder()
        let commands: [(String, [String])] = [
            ("reconstruct", ["-n", "12"]),
            ("sample", ["-n", "10"]),
            ("interpolate", ["--from", "0", "--to", "7", "--steps", "6"]),
            ("interpolate", ["--from", "0", "--to", "7", "--steps", "6", "--slerp"]),
            ("traverse", ["--steps", "5"]),
            ("arithmetic", ["--a", "3", "--b", "label:1", "--c", "label:7"]),
        ]
        var sizes: [String: (width: Int, height: Int)] = [:]
        for (index, (command, arguments)) in commands.enumerated() {
            let file = out.appendingPathComponent("\(index)-\(command).png")
            let result = try CLIRunner.run([command, "--run", run.path, "--device", device, "--out", file.path] + arguments)
            #expect(result.status == 0, "\(command): \(result.stderr)")
            let size = try #require(Self.pngSize(file), "\(command) wrote no PNG")
            sizes[command] = size
        }
        // digits are 8×8 drawn at scale 6, tiles of 48 + 2 pixels: one strip for interpolation, one row per latent
        // dimension (3) for the traversal, two pairs of rows for 12 reconstructions at 8 per row
        let tile = 50
        let strip = try #require(sizes["interpolate"]), traverse = try #require(sizes["traverse"])
        #expect(strip.width >= 6 * tile && strip.height < 2 * tile)
        #expect(traverse.height >= 3 * tile && traverse.height < 4 * tile + 40)
        let reconstruct = try #require(sizes["reconstruct"])
        #expect(reconstruct.height >= 4 * tile && reconstruct.height < 5 * tile && reconstruct.width >= 8 * tile)
        // the default output goes into the run folder
        let defaulted = try CLIRunner.run(["sample", "--run", run.path, "--device", device, "-n", "4"])
        #expect(defaulted.status == 0 && Self.pngSize(run.appendingPathComponent("samples.png")) != nil)
    }

    @Test(arguments: devices)
    func encodeWritesCSVAndNPY(device: String) throws {
        let vae = try Self.vae.get(), vq = try Self.vq.get()
        let out = try CLIRunner.temporaryFolder()
        let csv = out.appendingPathComponent("codes.csv")
        let result = try CLIRunner.run(["encode", "--run", vae.path, "--device", device, "--out", csv.path])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1 + 297 && lines[0] == "z0,z1,z2,label")
        #expect(lines[1].split(separator: ",").count == 4)

        let npy = out.appendingPathComponent("vq.npy")
        let vqResult = try CLIRunner.run(["encode", "--run", vq.path, "--device", device, "--out", npy.path])
        #expect(vqResult.status == 0, "\(vqResult.stderr)")
        for file in [npy, out.appendingPathComponent("vq-indices.npy")] {
            let bytes = try Array(Data(contentsOf: file))
            #expect(bytes.starts(with: [0x93] + Array("NUMPY".utf8)), "\(file.lastPathComponent)")
            let header = String(decoding: bytes.prefix(128), as: UTF8.self)
            #expect(header.contains(file == npy ? "(297, 4)" : "(297, 2)"), "\(header)")
        }
        let vqCSV = out.appendingPathComponent("vq.csv")
        #expect(try CLIRunner.run(["encode", "--run", vq.path, "--device", device, "--out", vqCSV.path]).status == 0)
        #expect(try String(contentsOf: vqCSV, encoding: .utf8).hasPrefix("z0,z1,z2,z3,code0,code1,label\n"))
        #expect(try CLIRunner.run(["sample", "--run", vq.path, "--device", device, "-n", "4",
                                   "--out", out.appendingPathComponent("vq.png").path]).status == 0)
    }

    @Test func usageErrorsExitWithTwo() throws {
        let vae = try Self.vae.get(), table = try Self.table.get()
        let out = try CLIRunner.temporaryFolder().appendingPathComponent("x.png").path
        let cases: [([String], String)] = [
            (["reconstruct", "--run", table.path], "draws images"),
            (["sample", "--run", table.path], "draws images"),
            (["traverse", "--run", table.path], "draws images"),
            (["interpolate", "--run", vae.path, "--from", "0", "--to", "5000"], "out of range"),
            (["interpolate", "--run", vae.path, "--from", "0", "--to", "1", "--steps", "1"], "--steps"),
            (["arithmetic", "--run", vae.path, "--a", "x", "--b", "1", "--c", "2"], "operand 'x'"),
            (["arithmetic", "--run", vae.path, "--a", "0", "--b", "label:42", "--c", "2"], "no sample has label 42"),
            (["encode", "--run", vae.path, "--out", "codes.txt"], ".npy or .csv"),
            (["sample", "--run", vae.path, "-n", "0"], "-n must be positive"),
        ]
        for (arguments, message) in cases {
            let result = try CLIRunner.run(arguments + ["--device", "cpu"] + (arguments.contains("--out") ? [] : ["--out", out]))
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message) && result.stderr.split(separator: "\n").count == 1,
                    "\(arguments): \(result.stderr)")
        }
        // the table run still encodes
        let csv = try CLIRunner.temporaryFolder().appendingPathComponent("t.csv")
        #expect(try CLIRunner.run(["encode", "--run", table.path, "--device", "cpu", "--out", csv.path]).status == 0)
        // a missing run folder is a failure, not a usage error
        let missing = try CLIRunner.run(["sample", "--run", "/nonexistent/run", "--device", "cpu"])
        #expect(missing.status == 1 && missing.stderr.contains("no such run folder"))
    }

    @Test func shapesTrainAndDraw() throws {
        let run = try Self.train("shapes", ["--model", "ae", "--data", "shapes:120:2x4x4x4", "--epochs", "1",
                                            "--hidden", "16", "--latent-dim", "2", "--batch-size", "16"]).get()
        let config = try String(contentsOf: run.appendingPathComponent("config.json"), encoding: .utf8)
        #expect(config.contains("\"shapes:120:2x4x4x4\""))
        let file = run.appendingPathComponent("r.png")
        let result = try CLIRunner.run(["reconstruct", "--run", run.path, "--device", "cpu", "-n", "4", "--out", file.path])
        #expect(result.status == 0, "\(result.stderr)")
        // 64×64 tiles at scale 1: four tiles in a row, two rows
        let size = try #require(Self.pngSize(file))
        #expect(size.height == 2 + 2 * (64 + 2) && size.width > 4 * 64)
    }
}
