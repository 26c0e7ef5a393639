import Foundation
import Testing

/// Checkpoints are written atomically: training killed with SIGKILL at random moments always leaves a last
/// checkpoint that loads and resumes.
@Suite struct KillTests {
    /// The newest `epoch-NNNN.safetensors` in a checkpoint folder, 0 when there is none.
    static func latestEpoch(in folder: URL) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasPrefix("epoch-") && $0.hasSuffix(".safetensors") }
            .compactMap { Int($0.dropFirst("epoch-".count).prefix(4)) }.max() ?? 0
    }

    @Test func sigkillNeverLeavesABrokenCheckpoint() throws {
        let folder = try CLIRunner.temporaryFolder()
        let run = folder.appendingPathComponent("run")
        var generator = SystemRandomNumberGenerator()
        var arguments = ["train", "--model", "ae", "--hidden", "32", "--epochs", "100000", "--batch-size", "16",
                         "--device", "cpu", "--out", run.path]
        var lastEpoch = 0
        for attempt in 0..<4 {
            let process = Process()
            process.executableURL = CLIRunner.executable
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // wait for a checkpoint of this attempt (however slow the machine), then kill at a random moment
            let folder = run.appendingPathComponent("checkpoints")
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline && Self.latestEpoch(in: folder) <= lastEpoch && process.isRunning {
                Thread.sleep(forTimeInterval: 0.05)
            }
            Thread.sleep(forTimeInterval: Double.random(in: 0..<1.5, using: &generator))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal, "attempt \(attempt)")

            let checkpoints = try FileManager.default.contentsOfDirectory(atPath: run.appendingPathComponent("checkpoints").path)
                .filter { $0.hasPrefix("epoch-") && $0.hasSuffix(".safetensors") }.sorted()
            let latest = try #require(checkpoints.last, "no checkpoint after attempt \(attempt)")
            let epoch = try #require(Int(latest.dropFirst("epoch-".count).prefix(4)))
            #expect(epoch >= lastEpoch, "checkpoints went backwards: \(lastEpoch) → \(epoch)")
            lastEpoch = epoch
            // the run folder still evaluates from its best weights and resumes from the latest checkpoint
            let evaluate = try CLIRunner.run(["evaluate", "--run", run.path, "--device", "cpu", "--json"])
            if FileManager.default.fileExists(atPath: run.appendingPathComponent("model.safetensors").path) {
                #expect(evaluate.status == 0, "\(evaluate.stderr)")
            } else {
                // without a final model: one line naming the run folder and how to continue it
                #expect(evaluate.status == 1, "\(evaluate.stderr)")
                #expect(evaluate.stderr.split(separator: "\n").count == 1, "\(evaluate.stderr)")
                #expect(evaluate.stderr.contains("model.safetensors") && evaluate.stderr.contains(run.path)
                        && evaluate.stderr.contains("autoencoder train --resume \(run.path)"), "\(evaluate.stderr)")
            }
            let resumed = try CLIRunner.run(["train", "--resume", run.path, "--epochs", String(epoch + 1), "--device", "cpu", "--json"])
            #expect(resumed.status == 0, "attempt \(attempt): \(resumed.stderr)")
            #expect(CLIRunner.json(resumed)?["epochs"] as? Int == epoch + 1)
            arguments = ["train", "--resume", run.path, "--epochs", "100000", "--device", "cpu"]
        }
    }
}
