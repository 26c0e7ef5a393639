import Foundation
import Testing

/// `detect`'s files, thresholds from data other than the scored data, and scoring CSV files that name their
/// columns differently from the run's; `train`'s printed architecture and features.
@Suite struct DetectCLITests {
    /// The bundled breast-cancer table split into files: 200 benign training rows, a labelled validation file
    /// (30 benign, 30 malignant) and a test file (the other 127 benign and 182 malignant), label column `malignant`.
    static func splitFiles(in folder: URL, testLabel: String = "malignant") throws -> (train: URL, validation: URL, test: URL) {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/Autoencoders/Resources/wdbc.csv")
        let lines = try String(contentsOf: source, encoding: .utf8).split(separator: "\n").map(String.init)
        let header = lines[0], rows = lines.dropFirst()
        let benign = rows.filter { $0.hasSuffix(",0") }, malignant = rows.filter { $0.hasSuffix(",1") }
        func write(_ name: String, _ chosen: [String], header: String = header) throws -> URL {
            let url = folder.appendingPathComponent(name)
            try ([header] + chosen).joined(separator: "\n").appending("\n").write(to: url, atomically: true, encoding: .utf8)
            return url
        }
        let testHeader = header.replacingOccurrences(of: "malignant", with: testLabel)
        return (try write("train.csv", Array(benign.prefix(200))),
                try write("validation.csv", Array(benign.dropFirst(200).prefix(30) + malignant.prefix(30))),
                try write("test.csv", Array(benign.dropFirst(230) + malignant.dropFirst(30)), header: testHeader))
    }

    static func trainedRun(_ folder: URL, _ files: (train: URL, validation: URL, test: URL), extra: [String] = []) throws -> URL {
        let run = folder.appendingPathComponent("run")
        let train = try CLIRunner.run(["train", "--data", files.train.path, "--label-column", "malignant", "--normal-label", "0",
                                       "--test-fraction", "0", "--ensemble", "2", "--device", "cpu", "--out", run.path] + extra)
        #expect(train.status == 0, "\(train.stderr)")
        return run
    }

    @Test func detectWritesScoresAndROCIntoTheRunFolderByDefault() throws {
        let folder = try CLIRunner.temporaryFolder()
        let files = try Self.splitFiles(in: folder)
        let run = try Self.trainedRun(folder, files)
        let detect = try CLIRunner.run(["detect", "--run", run.path, "--data", files.test.path, "--label-column", "malignant"])
        #expect(detect.status == 0, "\(detect.stderr)")
        let scores = run.appendingPathComponent("scores.csv"), roc = run.appendingPathComponent("roc.png")
        #expect(detect.stdout.contains("wrote \(scores.path), \(roc.path)"), "\(detect.stdout)")
        let rows = try String(contentsOf: scores, encoding: .utf8).split(separator: "\n")
        #expect(rows.first == "index,score,label,flagged" && rows.count == 1 + 127 + 182)
        #expect(try Data(contentsOf: roc).prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))
        #expect(detect.stdout.contains("chosen on the run's validation split, 20 normal samples); expected false-positive rate"))
        #expect(detect.stdout.contains("ensemble of 2"))
    }

    @Test func f1ThresholdComesFromALabelledValidationFileNeverFromTheScoredData() throws {
        let folder = try CLIRunner.temporaryFolder()
        let files = try Self.splitFiles(in: folder, testLabel: "diagnosis")
        let run = try Self.trainedRun(folder, files)
        let scored = ["detect", "--run", run.path, "--data", files.test.path, "--label-column", "diagnosis", "--json"]
        let refused = try CLIRunner.run(scored + ["--threshold", "f1"])
        #expect(refused.status == 2 && refused.stderr.contains("--validation FILE"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: run.appendingPathComponent("scores.csv").path))
        // the validation file labels of its own, under the test file's column name
        let renamed = folder.appendingPathComponent("validation-diagnosis.csv")
        try String(contentsOf: files.validation, encoding: .utf8).replacingOccurrences(of: "malignant", with: "diagnosis")
            .write(to: renamed, atomically: true, encoding: .utf8)
        let f1 = try CLIRunner.run(scored + ["--threshold", "f1", "--validation", renamed.path])
        #expect(f1.status == 0, "\(f1.stderr)")
        let line = try #require(CLIRunner.json(f1), "\(f1.stdout)")
        #expect(line["threshold_data"] as? String == renamed.path)
        #expect(line["samples"] as? Int == 127 + 182 && line["anomalies"] as? Int == 182)
        // the threshold is the F1-optimal one on the validation file: scoring that file flags at its optimum
        let self_ = try CLIRunner.run(["detect", "--run", run.path, "--data", renamed.path, "--validation", renamed.path,
                                       "--label-column", "diagnosis", "--threshold", "f1", "--json"])
        let selfLine = try #require(CLIRunner.json(self_), "\(self_.stderr)")
        #expect(selfLine["threshold"] as? Double == line["threshold"] as? Double)
    }

    @Test func fprThresholdFromNormalValidationDataReportsItsRate() throws {
        let folder = try CLIRunner.temporaryFolder()
        let files = try Self.splitFiles(in: folder)
        let run = try Self.trainedRun(folder, files)
        let normal = folder.appendingPathComponent("normal.csv")
        let rows = try String(contentsOf: files.validation, encoding: .utf8).split(separator: "\n").filter { !$0.hasSuffix(",1") }
        try (rows.joined(separator: "\n") + "\n").write(to: normal, atomically: true, encoding: .utf8)
        // judged on the very samples that chose it, the flagged share is the expected false-positive rate
        let detect = try CLIRunner.run(["detect", "--run", run.path, "--data", normal.path, "--validation", normal.path,
                                        "--threshold", "fpr:0.1", "--json"])
        let line = try #require(CLIRunner.json(detect), "\(detect.stderr)")
        let expected = try #require(line["expected_fpr"] as? Double)
        #expect(expected <= 0.1 && expected > 0)
        #expect(Double(line["flagged"] as? Int ?? -1) / 30 == expected)
        #expect(line["normal_samples"] as? Int == 30 && line["threshold_data"] as? String == normal.path)
    }

    @Test func badScoreAndEnsembleOptionsAreOneLineUsageErrors() throws {
        let folder = try CLIRunner.temporaryFolder()
        let files = try Self.splitFiles(in: folder)
        let run = try Self.trainedRun(folder, files)
        let score = try CLIRunner.run(["detect", "--run", run.path, "--score", "median"])
        #expect(score.status == 2 && score.stderr.contains("--score 'median'") && score.stderr.contains("standardized+code"), "\(score.stderr)")
        let ensemble = try CLIRunner.run(["train", "--data", files.train.path, "--normal-label", "0", "--label-column", "malignant",
                                          "--ensemble", "0", "--out", folder.appendingPathComponent("zero").path])
        #expect(ensemble.status == 2 && ensemble.stderr.contains("--ensemble must be at least 1"), "\(ensemble.stderr)")
        #expect(ensemble.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("zero").path))
    }

    @Test func evaluateAndDetectTakeTheColumnsOfTheScoredFile() throws {
        let folder = try CLIRunner.temporaryFolder()
        let files = try Self.splitFiles(in: folder, testLabel: "diagnosis")
        let run = try Self.trainedRun(folder, files)
        for command in ["evaluate", "detect"] {
            let wrong = try CLIRunner.run([command, "--run", run.path, "--data", files.test.path, "--json"])
            #expect(wrong.status != 0, "\(command): the run's label column `malignant` is not in the file")
            let right = try CLIRunner.run([command, "--run", run.path, "--data", files.test.path, "--label-column", "diagnosis", "--json"])
            #expect(right.status == 0, "\(command): \(right.stderr)")
        }
        let detect = try CLIRunner.run(["detect", "--run", run.path, "--data", files.test.path, "--label-column", "diagnosis", "--json"])
        #expect(try #require(CLIRunner.json(detect))["anomalies"] as? Int == 182)
        let ownData = try CLIRunner.run(["evaluate", "--run", run.path, "--label-column", "diagnosis"])
        #expect(ownData.status == 2 && ownData.stderr.contains("--data"), "\(ownData.stderr)")
    }

    @Test func trainSizesTableDefaultsToTheInputAndPrintsTheFeatures() throws {
        let folder = try CLIRunner.temporaryFolder()
        let csv = folder.appendingPathComponent("nine.csv")
        var text = "id,a,b,c,d,e,f,g,h\n"
        for i in 0..<120 { text += "\(i)," + (1...8).map { String(format: "%.3f", sin(Double(i * $0))) }.joined(separator: ",") + "\n" }
        try text.write(to: csv, atomically: true, encoding: .utf8)
        let run = folder.appendingPathComponent("run")
        let train = try CLIRunner.run(["train", "--data", csv.path, "--epochs", "1", "--device", "cpu", "--out", run.path])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("mlp 9 → 16 → 8 → 2 → 8 → 16 → 9 (code 2)"), "\(train.stdout)")
        #expect(train.stdout.contains("features: 9 columns (id, a, b, c, d, e, f, g, h); no label column"), "\(train.stdout)")
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("config.json"))) as? [String: Any]
        let model = try #require(config?["model"] as? [String: Any])
        #expect(model["latentDim"] as? Int == 2 && model["hidden"] as? [Int] == [16, 8])
        // sparse autoencoders on activations keep their overcomplete code
        let sae = try CLIRunner.run(["train", "--model", "sparse", "--sae", "--data", csv.path, "--epochs", "1", "--device", "cpu",
                                     "--out", folder.appendingPathComponent("sae").path])
        #expect(sae.stdout.contains("mlp 9 → 32 → 9 (code 32)"), "\(sae.stdout)\(sae.stderr)")
    }

    @Test func imagesKeepTheirNormalizationForAnomalyDetection() throws {
        let run = try CLIRunner.temporaryFolder().appendingPathComponent("run")
        let train = try CLIRunner.run(["train", "--data", "digits", "--normal-label", "3", "--epochs", "1", "--ensemble", "1",
                                       "--device", "cpu", "--out", run.path])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("none normalization"), "\(train.stdout)")
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("config.json"))) as? [String: Any]
        let normalizer = (config?["data"] as? [String: Any])?["normalizer"] as? [String: Any]
        #expect(normalizer?["method"] as? String == "none")
    }
}
