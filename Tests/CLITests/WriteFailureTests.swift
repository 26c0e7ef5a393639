import Foundation
import Testing

/// A run file that cannot be written (disk full, something in the way) stops training with one line naming its
/// whole path, and leaves the checkpoint and model written before it intact.
@Suite struct WriteFailureTests {
    static let arguments = ["train", "--model", "ae", "--hidden", "32", "--batch-size", "16", "--device", "cpu"]

    /// A run of one epoch in `folder`/run, its files' bytes by relative path.
    static func oneEpochRun(in folder: URL) throws -> (URL, [String: Data]) {
        let run = folder.appendingPathComponent("run")
        let train = try CLIRunner.run(arguments + ["--epochs", "1", "--out", run.path])
        #expect(train.status == 0, "\(train.stderr)")
        return (run, try contents(of: run))
    }

    static func contents(of run: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in ["model.safetensors", "checkpoints/epoch-0001.safetensors", "checkpoints/best.safetensors"] {
            files[name] = try Data(contentsOf: run.appendingPathComponent(name))
        }
        return files
    }

    /// Checks the failed resume's message, and that the files of epoch 1 are as they were and still resume.
    static func expectStoppedCleanly(_ result: CLIRunner.Result, run: URL, before: [String: Data], reason: String) throws {
        let blocked = run.appendingPathComponent("checkpoints/epoch-0002.safetensors").path
        #expect(result.status == 1, "\(result.stderr)")
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(errors.count == 1 && result.stderr.hasSuffix(errors.last.map { $0 + "\n" } ?? "-"), "\(result.stderr)")
        let line = String(errors.first ?? "")
        #expect(line.contains(blocked) && line.contains(reason) && line.contains("training stopped"), "\(line)")
        #expect(try contents(of: run) == before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: run.appendingPathComponent("checkpoints").path)
            .filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test func aCheckpointThatCannotBeRenamedIntoPlaceStopsTraining() throws {
        let folder = try CLIRunner.temporaryFolder()
        let (run, before) = try Self.oneEpochRun(in: folder)
        // a non-empty folder where the epoch-2 checkpoint goes: the rename fails, even for root (and --resume
        // still starts from epoch-0001.safetensors, the newest checkpoint file)
        let blocker = run.appendingPathComponent("checkpoints/epoch-0002.safetensors")
        try FileManager.default.createDirectory(at: blocker, withIntermediateDirectories: false)
        try Data("x".utf8).write(to: blocker.appendingPathComponent("keep"))
        let failed = try CLIRunner.run(["train", "--resume", run.path, "--epochs", "3", "--device", "cpu"])
        try Self.expectStoppedCleanly(failed, run: run, before: before, reason: "rename into place")
        try FileManager.default.removeItem(at: blocker)
        let resumed = try CLIRunner.run(["train", "--resume", run.path, "--epochs", "3", "--device", "cpu", "--json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(CLIRunner.json(resumed)?["epochs"] as? Int == 3)
    }

    /// On a tiny tmpfs with room for the first epoch's files but not for another checkpoint (where this process
    /// may mount one: root with CAP_SYS_ADMIN; elsewhere the test has nothing to mount and returns).
    @Test func aFullDiskStopsTraining() throws {
        let folder = try CLIRunner.temporaryFolder()
        let (source, before) = try Self.oneEpochRun(in: folder)
        let page = 4096
        func pages(_ bytes: Int) -> Int { (bytes + page - 1) / page * page }
        let used = before.values.map { pages($0.count) }.reduce(0, +) + pages(try Data(contentsOf: source.appendingPathComponent("metrics.csv")).count)
        let checkpoint = before["checkpoints/epoch-0001.safetensors"]?.count ?? 0
        let mountPoint = folder.appendingPathComponent("tmpfs")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: false)
        let size = used + 2 * page + pages(checkpoint / 2)
        guard try Self.system(["mount", "-t", "tmpfs", "-o", "size=\(size)", "tmpfs", mountPoint.path]) == 0 else { return }
        defer { _ = try? Self.system(["umount", mountPoint.path]) }
        let run = mountPoint.appendingPathComponent("run")
        #expect(try Self.system(["cp", "-a", source.path, run.path]) == 0)
        let failed = try CLIRunner.run(["train", "--resume", run.path, "--epochs", "3", "--device", "cpu"])
        try Self.expectStoppedCleanly(failed, run: run, before: before, reason: "No space left on device")
    }

    static func system(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
