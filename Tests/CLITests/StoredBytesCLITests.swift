import Foundation
import Testing

/// `train` on a uint8 image file, (N, H, W) as numpy writes it: the images stay bytes on the device, `train` says
/// so, and the memory budget counts them as bytes, so a file that fits as bytes is not streamed.
@Suite struct StoredBytesCLITests {
    @Test func uint8ImagesStayBytesAndTheBudgetCountsThemAsBytes() throws {
        let folder = try CLIRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var state: UInt64 = 0x5EED
        let pixels = (0..<(600 * 8 * 8)).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(state >> 56)
        }
        let file = folder.appendingPathComponent("images.npy")
        try DataAsWrittenTests.npy(descr: "|u1", shape: [600, 8, 8], payload: pixels).write(to: file)
        let common = ["train", "--data", file.path, "--epochs", "1", "--seed", "3"]
        // 38.4 kB as bytes, 154 kB as float32: under a budget of 100 kB it loads whole, as bytes
        let whole = try CLIRunner.run(common + ["--memory-budget", "0.1", "--out", folder.appendingPathComponent("whole").path])
        #expect(whole.status == 0, "\(whole.stderr)")
        #expect(!whole.stdout.contains("streamed from disk") && !whole.stderr.contains("over the memory budget"), "\(whole.stderr)")
        #expect(whole.stdout.contains("data: kept as uint8 on cpu, 27.6 kB for the training samples (111 kB as float32)"), "\(whole.stdout)")
        // under 30 kB it streams, and says it counted bytes
        let streamed = try CLIRunner.run(common + ["--memory-budget", "0.03", "--block-rows", "64",
                                                   "--out", folder.appendingPathComponent("streamed").path])
        #expect(streamed.status == 0, "\(streamed.stderr)")
        #expect(streamed.stderr.contains("data: 38.4 kB as uint8, over the memory budget of 30 kB"), "\(streamed.stderr)")
        // a z-scored image set takes float32 loaded whole, so the same budget streams it
        let scaled = try CLIRunner.run(common + ["--memory-budget", "0.1", "--normalize", "zscore", "--block-rows", "64",
                                                 "--out", folder.appendingPathComponent("scaled").path])
        #expect(scaled.status == 0, "\(scaled.stderr)")
        #expect(scaled.stderr.contains("data: 154 kB as float32, over the memory budget of 100 kB"), "\(scaled.stderr)")
    }
}
