import Foundation
import Testing

/// A run resumed with more epochs stretches every schedule to its new length: the cyclical β as the learning rate.
@Suite struct ResumeScheduleTests {
    /// The `beta` column of a run's `metrics.csv`, one value per epoch.
    static func betas(_ run: URL) throws -> [String] {
        let lines = try String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8).split(separator: "\n")
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false)
        let column = try #require(header.firstIndex(of: "beta"))
        return lines.dropFirst().map { String($0.split(separator: ",", omittingEmptySubsequences: false)[column]) }
    }

    @Test func aResumedRunStretchesTheCyclicalKLSchedule() throws {
        let folder = try CLIRunner.temporaryFolder()
        let common = ["--data", "digits", "--kl-schedule", "cyclical:1:1", "--hidden", "32", "--latent-dim", "4",
                      "--device", "cpu"]
        let whole = folder.appendingPathComponent("whole"), resumed = folder.appendingPathComponent("resumed")
        let long = try CLIRunner.run(["train", "--epochs", "4", "--out", whole.path] + common)
        let short = try CLIRunner.run(["train", "--epochs", "2", "--out", resumed.path] + common)
        #expect(long.status == 0 && short.status == 0, "\(long.stderr) \(short.stderr)")
        let more = try CLIRunner.run(["train", "--resume", resumed.path, "--epochs", "4", "--device", "cpu"])
        #expect(more.status == 0, "\(more.stderr)")
        // one cycle over the run: β rises through all four epochs of either run (it used to wrap to 0 after epoch 2
        // of the resumed one, whose cycle kept the length of its first two epochs)
        let a = try Self.betas(whole), b = try Self.betas(resumed)
        #expect(a.count == 4 && b.count == 4)
        #expect(Array(a.suffix(2)) == Array(b.suffix(2)), "\(a) vs \(b)")
    }
}
