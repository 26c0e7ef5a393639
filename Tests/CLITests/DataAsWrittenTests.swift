import Foundation
import Testing

/// `.npy` files as numpy users write them, and metrics that are not numbers.
@Suite struct DataAsWrittenTests {
    /// The bytes of a version-1.0 `.npy` file holding `payload` (C order).
    static func npy(descr: String, shape: [Int], payload: [UInt8]) -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        let header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let text = header + String(repeating: " ", count: 63 - (10 + header.count) % 64) + "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        bytes += [UInt8(text.utf8.count & 0xFF), UInt8(text.utf8.count >> 8)] + Array(text.utf8)
        return Data(bytes + payload)
    }

    static func float32(_ values: [Float]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
    }

    /// Seeded 8×8 "images" of `count` samples: a bright blob whose place depends on the sample.
    static func pixels(count: Int) -> [UInt8] {
        (0..<count).flatMap { n in
            (0..<64).map { i -> UInt8 in
                let (x, y) = (i % 8, i / 8), (cx, cy) = (n % 5 + 1, (n / 5) % 5 + 1)
                return abs(x - cx) + abs(y - cy) < 3 ? UInt8(120 + (n * 37 + i) % 136) : UInt8((n + i) % 9)
            }
        }
    }

    /// An (N, 8, 8) uint8 array trains a conv model as images (one channel, bytes scaled to [0, 1], no min-max), and
    /// the same data as uint8 or as float x/255 evaluates alike.
    @Test func aUint8ImageArrayIsReadAsImages() throws {
        let folder = try CLIRunner.temporaryFolder()
        let bytes = Self.pixels(count: 200)
        let images = folder.appendingPathComponent("images.npy")
        try Self.npy(descr: "|u1", shape: [200, 8, 8], payload: bytes).write(to: images)
        let run = folder.appendingPathComponent("conv")
        let train = try CLIRunner.run(["train", "--data", images.path, "--arch", "conv", "--channels", "4,8", "--dense-width", "16",
                                       "--latent-dim", "4", "--epochs", "1", "--batch-size", "16", "--device", "cpu",
                                       "--out", run.path, "--json"])
        #expect(train.status == 0, "\(train.stderr)")
        let config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("config.json"))) as? [String: Any])
        let data = try #require(config["data"] as? [String: Any])
        #expect(data["shape"] as? [Int] == [1, 8, 8])
        #expect(((data["normalizer"] as? [String: Any])?["method"] as? String) == "none", "\(data)")

        // (another path than the run's own source, which would mean its test split)
        let copy = folder.appendingPathComponent("copy.npy")
        try FileManager.default.copyItem(at: images, to: copy)
        let floats = folder.appendingPathComponent("floats.npy")
        // the floats the bytes read as: b · (1/255), the product the loaders and the device's gather compute
        try Self.npy(descr: "<f4", shape: [200, 8, 8], payload: Self.float32(bytes.map { Float($0) * (Float(1) / 255) })).write(to: floats)
        let fromBytes = try CLIRunner.run(["evaluate", "--run", run.path, "--data", copy.path, "--device", "cpu", "--json"])
        let fromFloats = try CLIRunner.run(["evaluate", "--run", run.path, "--data", floats.path, "--device", "cpu", "--json"])
        #expect(fromBytes.status == 0 && fromFloats.status == 0, "\(fromBytes.stderr) \(fromFloats.stderr)")
        let loss = try #require(CLIRunner.json(fromBytes)?["loss"] as? Double)
        #expect(loss.isFinite)
        #expect(loss == CLIRunner.json(fromFloats)?["loss"] as? Double)
    }

    /// Data on another scale than the run's gives a NaN or infinite loss: one error line and exit 1, with and
    /// without --json, and nothing on standard output.
    @Test(arguments: [false, true])
    func aNonFiniteMetricIsOneErrorLine(json: Bool) throws {
        let folder = try CLIRunner.temporaryFolder()
        let run = folder.appendingPathComponent("vae")
        let train = try CLIRunner.run(["train", "--epochs", "1", "--device", "cpu", "--out", run.path])
        #expect(train.status == 0, "\(train.stderr)")
        let huge = folder.appendingPathComponent("huge.npy")
        let values = (0..<(20 * 64)).map { Float($0 % 7) * 3e37 }
        try Self.npy(descr: "<f4", shape: [20, 64], payload: Self.float32(values)).write(to: huge)
        let evaluate = try CLIRunner.run(["evaluate", "--run", run.path, "--data", huge.path, "--device", "cpu"] + (json ? ["--json"] : []))
        #expect(evaluate.status == 1, "\(evaluate.stdout) \(evaluate.stderr)")
        #expect(evaluate.stdout.isEmpty, "\(evaluate.stdout)")
        #expect(evaluate.stderr.split(separator: "\n").count == 1, "\(evaluate.stderr)")
        #expect(evaluate.stderr.hasPrefix("error: huge.npy: non-finite value: "), "\(evaluate.stderr)")
    }
}
