import Foundation
import Testing

/// Ctrl-C (SIGINT) or SIGTERM during training: the first signal stops after the current step and leaves a run
/// folder every command reads and `--resume` continues exactly; a second signal ends the process at once.
@Suite struct InterruptTests {
    static let arguments = ["train", "--model", "ae", "--hidden", "32", "--epochs", "30", "--batch-size", "16",
                            "--device", "cpu"]

    /// Starts training into `run` and returns the process once its second checkpoint exists, with the seconds
    /// between the first two (an epoch, measured to within the 20 ms of polling).
    static func startTraining(into run: URL, stderr: Pipe) throws -> (process: Process, epochSeconds: Double) {
        let process = Process()
        process.executableURL = CLIRunner.executable
        process.arguments = arguments + ["--out", run.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderr
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        func waitFor(epoch: Int) -> Date {
            let checkpoint = run.appendingPathComponent(String(format: "checkpoints/epoch-%04d.safetensors", epoch))
            while Date() < deadline && process.isRunning && !FileManager.default.fileExists(atPath: checkpoint.path) {
                Thread.sleep(forTimeInterval: 0.02)
            }
            return Date()
        }
        let first = waitFor(epoch: 1)
        return (process, waitFor(epoch: 2).timeIntervalSince(first))
    }

    @Test(arguments: [SIGINT, SIGTERM])
    func theFirstSignalLeavesARunThatLoadsAndResumesExactly(signal: Int32) throws {
        let folder = try CLIRunner.temporaryFolder()
        let run = folder.appendingPathComponent("run")
        let errors = Pipe()
        let (process, epochSeconds) = try Self.startTraining(into: run, stderr: errors)
        // a random moment within the next 5 epochs (at most 1.5 s), so the signal lands mid-training however fast
        // the machine runs the 28 epochs left
        Thread.sleep(forTimeInterval: Double.random(in: 0..<min(1.5, 5 * max(epochSeconds, 0.001))))
        kill(process.processIdentifier, signal)
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 130, "\(stderr)")

        // interrupted at epoch E, step S: resume with --resume DIR
        let line = try #require(stderr.split(separator: "\n").last.map(String.init))
        let pattern = try Regex("^interrupted at epoch ([0-9]+), step ([0-9]+): resume with --resume (.+)$")
        let match = try #require(line.wholeMatch(of: pattern), "last line: \(line)")
        let epoch = try #require(Int(match.output[1].substring ?? ""))
        #expect(String(match.output[3].substring ?? "") == run.path)
        #expect(epoch >= 3 && epoch <= 30)

        // the model, a checkpoint within the epoch and the finished epochs' metrics are there and load
        #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent(String(format: "checkpoints/epoch-%04d-partial.safetensors", epoch)).path))
        let metrics = try String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8)
        #expect(metrics.split(separator: "\n").count == epoch, "header + \(epoch - 1) finished epochs")
        let evaluate = try CLIRunner.run(["evaluate", "--run", run.path, "--device", "cpu", "--json"])
        #expect(evaluate.status == 0, "\(evaluate.stderr)")
        #expect(CLIRunner.json(evaluate)?["loss"] as? Double != nil)

        // fewer epochs than the interrupted one cannot continue it
        let short = try CLIRunner.run(["train", "--resume", run.path, "--epochs", String(epoch - 1)])
        #expect(short.status == 2 && short.stderr.contains("continue it with --epochs \(epoch) or more"), "\(short.stderr)")
        // --resume finishes the run bit for bit as an uninterrupted one
        let resumed = try CLIRunner.run(["train", "--resume", run.path, "--json"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming \(run.path) within epoch \(epoch)"), "\(resumed.stderr)")
        #expect(CLIRunner.json(resumed)?["epochs"] as? Int == 30)
        let whole = folder.appendingPathComponent("whole")
        let uninterrupted = try CLIRunner.run(Self.arguments + ["--out", whole.path])
        #expect(uninterrupted.status == 0, "\(uninterrupted.stderr)")
        let resumedModel = try Data(contentsOf: run.appendingPathComponent("model.safetensors"))
        #expect(resumedModel == (try Data(contentsOf: whole.appendingPathComponent("model.safetensors"))))
        // the finished epoch replaced its partial checkpoint
        let names = try FileManager.default.contentsOfDirectory(atPath: run.appendingPathComponent("checkpoints").path)
        #expect(!names.contains { $0.hasSuffix("-partial.safetensors") }, "\(names)")
    }

    @Test func aSecondSignalEndsTheProcessAtOnce() throws {
        let folder = try CLIRunner.temporaryFolder()
        let run = folder.appendingPathComponent("run")
        let errors = Pipe()
        let (process, _) = try Self.startTraining(into: run, stderr: errors)
        // two different signals, so the second is not merged into the still-pending first
        kill(process.processIdentifier, SIGINT)
        kill(process.processIdentifier, SIGTERM)
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 130, "\(stderr)")
        #expect(!stderr.contains("interrupted at"), "\(stderr)")
    }

    /// On a terminal the progress bar is ended with a newline before the message, not left half drawn.
    @Test func onATerminalTheProgressLineEndsBeforeTheMessage() throws {
        let script = """
        import os, pty, signal, sys, time
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(sys.argv[1], sys.argv[1:])
        out, sent, deadline = b"", False, time.time() + 60
        while time.time() < deadline:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if not sent and out.rfind(b"\\x1b[2Kepoch ") > out.rfind(b"\\n"):
                os.kill(pid, signal.SIGINT)
                sent = True
        _, status = os.waitpid(pid, 0)
        sys.stdout.buffer.write(out)
        sys.exit(os.waitstatus_to_exitcode(status))
        """
        let folder = try CLIRunner.temporaryFolder()
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", script, CLIRunner.executable.path]
            + Self.arguments + ["--out", folder.appendingPathComponent("run").path]
        let out = Pipe()
        python.standardOutput = out
        python.standardError = FileHandle.nullDevice
        do { try python.run() } catch {
            #expect(ProcessInfo.processInfo.environment["CI"] != "true", "CI needs python3")
            return
        }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        python.waitUntilExit()
        if python.terminationStatus == 127 {
            #expect(ProcessInfo.processInfo.environment["CI"] != "true", "CI needs python3")
            return
        }
        #expect(python.terminationStatus == 130, "\(text)")
        let message = try #require(text.range(of: "interrupted at epoch"), "\(text)")
        let before = text[..<message.lowerBound]
        #expect(before.contains("\u{1B}[2Kepoch "), "a progress bar was drawn: \(text)")
        #expect(before.unicodeScalars.last == "\n", "the line before the message is finished: \(before.suffix(120).debugDescription)")
    }
}
