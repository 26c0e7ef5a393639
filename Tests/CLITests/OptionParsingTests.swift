import Foundation
import Testing

/// Options parse into their types before any work: `--help` lists an enum option's values, a value that is none of
/// them (or a check that needs only the options) is one line on stderr and exit 2, before the data is read.
@Suite struct OptionParsingTests {
    /// `train --help` with its line wrapping undone.
    static func trainHelp() throws -> String {
        let help = try CLIRunner.run(["train", "--help"])
        #expect(help.status == 0, "\(help.stderr)")
        return help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    @Test func trainHelpListsEachEnumOptionsValues() throws {
        let help = try Self.trainHelp()
        for listed in [
            "--model <model> Model kind (default vae; ae with --normal-label). (values: ae, vae, beta-vae, vq-vae, denoising, sparse, contractive)",
            "(values: mlp, conv; default: mlp)",
            "(values: none, minmax, zscore)",
            "(values: bernoulli, gaussian, auto; default: auto)",
            "(values: none, encoder, both; default: none)",
            "(values: adam, adamw, sgd; default: adam)",
            "(values: stop, skip; default: stop)",
            "(values: fp32, tf32; default: fp32)",
        ] {
            #expect(help.contains(listed), "\(listed) in \(help)")
        }
        let detect = try CLIRunner.run(["detect", "--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(detect.contains("(values: loss, standardized, standardized+code)"), "\(detect)")
    }

    @Test(arguments: [
        (["train", "--arch", "cnn"], "unknown --arch 'cnn': use mlp or conv"),
        (["train", "--optimizer", "rmsprop"], "unknown --optimizer 'rmsprop': use adam, adamw or sgd"),
        (["train", "--model", "transformer"], "unknown --model 'transformer': use ae, vae, beta-vae, vq-vae, denoising, sparse or contractive"),
        (["train", "--likelihood", "poisson"], "unknown --likelihood 'poisson': use bernoulli, gaussian or auto"),
        (["train", "--precision", "fp16"], "unknown --precision 'fp16': use fp32 or tf32"),
        (["detect", "--run", "/nonexistent/run", "--score", "median"], "unknown --score 'median': use loss, standardized or standardized+code"),
        (["train", "--no-such-option"], "Unknown option '--no-such-option'"),
        (["detect"], "Missing expected argument '--run <run>'"),
    ])
    func aBadValueIsOneLineNamingItAndTheChoices(arguments: [String], message: String) throws {
        let result = try CLIRunner.run(arguments)
        #expect(result.status == 2, "\(arguments): \(result.stderr)")
        #expect(result.stderr.hasPrefix("error: ") && result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    /// Checks on the options alone come before the data is read: a missing data file does not hide them.
    @Test(arguments: [
        (["--top-k", "3", "--l1", "0.1"], "--top-k 3 and --l1 exclude each other"),
        (["--normal-count", "10"], "--normal-count needs --normal-label"),
        (["--normal-label", "0", "--normal-count", "0"], "--normal-count must be positive"),
        (["--hidden", "64,0"], "--hidden takes positive comma-separated widths"),
        (["--channels", "a,b"], "--channels takes positive comma-separated widths"),
        (["--capacity", "25:1000"], "--capacity takes CMAX:STEPS:GAMMA"),
        (["--corruption", "blur"], "corruption 'blur'"),
        (["--lr-schedule", "sometimes"], "invalid schedule 'sometimes'"),
    ])
    func optionChecksComeBeforeTheData(arguments: [String], message: String) throws {
        let folder = try CLIRunner.temporaryFolder()
        let run = folder.appendingPathComponent("run")
        let result = try CLIRunner.run(["train", "--data", folder.appendingPathComponent("missing.csv").path, "--out", run.path]
                                       + arguments)
        #expect(result.status == 2, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains(message) && !result.stderr.contains("missing.csv"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: run.path))
    }

    /// The other commands check their counts before they open the run.
    @Test(arguments: [
        (["detect", "--draws", "0"], "--draws must be positive"),
        (["detect", "--batch-size", "0"], "--batch-size must be positive"),
        (["evaluate", "--iw-samples=-1"], "--iw-samples must be ≥ 0"),
        (["features", "--top", "0"], "--top must be positive"),
        (["probe", "--labels", "1"], "--labels must be at least 2"),
        (["reconstruct", "--columns", "0"], "--columns must be positive"),
        (["traverse", "--range", "0"], "--range must be positive"),
        (["detect", "--threshold", "median"], "--threshold 'median'"),
    ])
    func commandChecksComeBeforeTheRun(arguments: [String], message: String) throws {
        let result = try CLIRunner.run(arguments + ["--run", "/nonexistent/run"])
        #expect(result.status == 2, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains(message) && !result.stderr.contains("/nonexistent/run"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    }
}
