import Foundation
import Testing

/// One run, one data set, one number: `train`'s test line and every `evaluate` agree, and say what they are.
@Suite struct EvaluationAgreementTests {
    @Test func trainAndEvaluateGiveTheSameSampledELBO() throws {
        let folder = try CLIRunner.temporaryFolder()
        let run = folder.appendingPathComponent("vae")
        let train = try CLIRunner.run(["train", "--epochs", "2", "--device", "cpu", "--out", run.path, "--json"])
        #expect(train.status == 0, "\(train.stderr)")
        let test = try #require(CLIRunner.json(train)?["test"] as? [String: Any])
        #expect(test["loss_estimate"] as? String == "sampled negative ELBO")
        #expect(test["elbo_draws"] as? Int == 1)
        let trained = try #require(test["loss"] as? Double)
        for _ in 0..<2 {
            let evaluate = try CLIRunner.run(["evaluate", "--run", run.path, "--device", "cpu", "--json"])
            #expect(evaluate.status == 0, "\(evaluate.stderr)")
            let line = try #require(CLIRunner.json(evaluate))
            #expect(line["loss"] as? Double == trained, "train said \(trained)")
            #expect(line["elbo_draws"] as? Int == 1)
        }
        let text = try CLIRunner.run(["evaluate", "--run", run.path, "--device", "cpu"])
        #expect(text.stdout.contains(String(format: "loss %.4f", trained)), "\(text.stdout)")
        #expect(text.stdout.contains("sampled negative ELBO, 1 draw of z per sample"), "\(text.stdout)")
        // and the report's page shows the same test loss
        let report = try CLIRunner.run(["report", "--run", run.path, "--device", "cpu"])
        #expect(report.status == 0, "\(report.stderr)")
        let html = try String(contentsOf: run.appendingPathComponent("report.html"), encoding: .utf8)
        let row = "<th>test loss (sampled negative ELBO, 1 draw of z per sample)</th><td>\(String(format: "%.4g", trained))</td>"
        #expect(html.contains(row), "no \(row)")
    }

    /// A plain autoencoder's loss involves no draw and says nothing of an ELBO.
    @Test func aDeterministicModelReportsNoDraws() throws {
        let folder = try CLIRunner.temporaryFolder()
        let run = folder.appendingPathComponent("ae")
        let train = try CLIRunner.run(["train", "--model", "ae", "--epochs", "1", "--device", "cpu", "--out", run.path])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(!train.stdout.contains("ELBO"), "\(train.stdout)")
        let evaluate = try CLIRunner.run(["evaluate", "--run", run.path, "--device", "cpu", "--json"])
        #expect(CLIRunner.json(evaluate)?["elbo_draws"] == nil)
    }

    /// `--test-fraction 0` leaves no test split: no test metrics (rather than zeros), and `evaluate` asks for data.
    @Test func anEmptyTestSplitIsLeftOut() throws {
        let folder = try CLIRunner.temporaryFolder()
        let run = folder.appendingPathComponent("wdbc")
        let train = try CLIRunner.run(["train", "--data", "breast-cancer", "--test-fraction", "0", "--epochs", "1",
                                       "--device", "cpu", "--out", run.path, "--json"])
        #expect(train.status == 0, "\(train.stderr)")
        let line = try #require(CLIRunner.json(train), "\(train.stdout)")
        #expect(line["test"] == nil, "\(line)")
        #expect(line["train"] != nil)
        let text = try CLIRunner.run(["train", "--data", "breast-cancer", "--test-fraction", "0", "--epochs", "1",
                                      "--device", "cpu", "--out", folder.appendingPathComponent("text").path])
        #expect(text.stdout.contains("test: no test split (--test-fraction 0)"), "\(text.stdout)")
        #expect(!text.stdout.contains("test: loss"), "\(text.stdout)")
        let evaluate = try CLIRunner.run(["evaluate", "--run", run.path, "--device", "cpu"])
        #expect(evaluate.status == 2, "\(evaluate.stderr)")
        #expect(evaluate.stderr.contains("no test split") && evaluate.stderr.contains("--data"), "\(evaluate.stderr)")
    }
}
