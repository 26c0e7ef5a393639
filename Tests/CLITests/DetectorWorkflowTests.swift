import Foundation
import Testing

/// Anomaly detection as a user without labels meets it: a detector fitted on a file of normal rows, or on
/// contaminated rows with an expected contamination, scoring files with or without labels, from a table of 30
/// rows up, and a streamed file; bad files give one line and a non-zero exit.
@Suite struct DetectorWorkflowTests {
    /// The bundled breast-cancer table's lines, header first (its last column is `malignant`).
    static let lines: [String] = {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/Autoencoders/Resources/wdbc.csv")
        return (try? String(contentsOf: source, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
    }()

    /// A line without its last column.
    static func dropLastColumn(_ line: String) -> String { String(line[..<line.lastIndex(of: ",")!]) }

    /// The bundled breast-cancer rows: (features as CSV text, malignant) in file order.
    static let rows: [(features: String, malignant: Bool)] = lines.dropFirst().map { (dropLastColumn($0), $0.hasSuffix(",1")) }

    /// The header of the feature columns (every column but `malignant`).
    static let featureHeader = dropLastColumn(lines[0])

    static let benign = rows.filter { !$0.malignant }.map(\.features)
    static let malignant = rows.filter(\.malignant).map(\.features)

    /// A CSV file of feature rows, with a `malignant` column when `labels` are given.
    static func write(_ name: String, _ features: [String], labels: [Bool]? = nil, in folder: URL) throws -> URL {
        let url = folder.appendingPathComponent(name)
        var lines = [featureHeader + (labels == nil ? "" : ",malignant")]
        for (i, row) in features.enumerated() { lines.append(row + (labels.map { $0[i] ? ",1" : ",0" } ?? "")) }
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// The new rows every test scores: the benign rows no detector trained on, then every malignant row.
    static let newRows = Array(benign.dropFirst(250)) + malignant
    static let newLabels = [Bool](repeating: false, count: benign.count - 250) + [Bool](repeating: true, count: malignant.count)

    /// The scores column of a `scores.csv`, parsed.
    static func scores(_ url: URL) throws -> [Double] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").dropFirst().map {
            try #require(Double($0.split(separator: ",", omittingEmptySubsequences: false)[1]))
        }
    }

    /// ROC-AUC by the Mann–Whitney count (ties count half).
    static func rocAUC(_ scores: [Double], _ anomalous: [Bool]) -> Double {
        let positives = scores.indices.filter { anomalous[$0] }.map { scores[$0] }
        let negatives = scores.indices.filter { !anomalous[$0] }.map { scores[$0] }
        var wins = 0.0
        for p in positives { for n in negatives { wins += p > n ? 1 : p == n ? 0.5 : 0 } }
        return wins / Double(positives.count * negatives.count)
    }

    /// A detector fitted with `train --detector` on the first `normalRows` benign rows, unlabelled: its run folder.
    static func detector(normalRows: Int, ensemble: Int, in folder: URL) throws -> (run: URL, train: CLIRunner.Result) {
        let normal = try write("normal.csv", Array(benign.prefix(normalRows)), in: folder)
        let run = folder.appendingPathComponent("run")
        let train = try CLIRunner.run(["train", "--data", normal.path, "--detector", "--ensemble", String(ensemble),
                                       "--device", "cpu", "--out", run.path])
        #expect(train.status == 0, "\(train.stderr)")
        return (run, train)
    }

    @Test func unlabelledNormalRowsFitADetectorThatScoresUnlabelledFiles() throws {
        let folder = try CLIRunner.temporaryFolder()
        let (run, train) = try Self.detector(normalRows: 200, ensemble: 2, in: folder)
        let new = try Self.write("new.csv", Self.newRows, in: folder)
        // every row fits the models but the validation share, which sets the threshold; nothing held back silently
        #expect(train.stdout.contains("detector: 180 rows fit the models, 20 validation rows (taken as normal"), "\(train.stdout)")
        #expect(train.stdout.contains("test: no test split"))
        let detect = try CLIRunner.run(["detect", "--run", run.path, "--data", new.path])
        #expect(detect.status == 0, "\(detect.stderr)")
        #expect(detect.stdout.contains("\(Self.newRows.count) samples of new.csv scored"), "\(detect.stdout)")
        #expect(!detect.stdout.contains("ROC-AUC") && !FileManager.default.fileExists(atPath: run.appendingPathComponent("roc.png").path))
        let lines = try String(contentsOf: run.appendingPathComponent("scores.csv"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1 + Self.newRows.count)
        // no labels, and a decision per row
        #expect(lines.dropFirst().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false)[2].isEmpty })
        #expect(lines.dropFirst().allSatisfy { $0.hasSuffix(",0") || $0.hasSuffix(",1") })
        // the detector learned: malignant rows rank above the benign ones it never saw
        #expect(Self.rocAUC(try Self.scores(run.appendingPathComponent("scores.csv")), Self.newLabels) > 0.9)
    }

    @Test func aRunTrainedOnLabelledRowsScoresAFileWithoutItsLabelColumn() throws {
        let folder = try CLIRunner.temporaryFolder()
        let labelled = try Self.write("train.csv", Array(Self.benign.prefix(200)) + Array(Self.malignant.prefix(20)),
                                      labels: [Bool](repeating: false, count: 200) + [Bool](repeating: true, count: 20), in: folder)
        let new = try Self.write("new.csv", Self.newRows, in: folder)
        let newLabelled = try Self.write("new-labelled.csv", Self.newRows, labels: Self.newLabels, in: folder)
        let run = folder.appendingPathComponent("run")
        let train = try CLIRunner.run(["train", "--data", labelled.path, "--label-column", "malignant", "--normal-label", "0",
                                       "--ensemble", "2", "--device", "cpu", "--out", run.path])
        #expect(train.status == 0, "\(train.stderr)")
        // --normal-label without --test-fraction 0 says which normal rows it keeps back for the test split
        #expect(train.stdout.contains("the test split holds the other 40 normal and 20 anomalous rows (--test-fraction 0.2"), "\(train.stdout)")
        let unlabelled = try CLIRunner.run(["detect", "--run", run.path, "--data", new.path, "--out", folder.appendingPathComponent("a.csv").path])
        #expect(unlabelled.status == 0, "\(unlabelled.stderr)")
        // with labels the same rows get the same scores and metrics; the file's scores reproduce detect's ROC-AUC
        // to the last digit (written at full precision, they make no ties the scores do not have)
        let scored = try CLIRunner.run(["detect", "--run", run.path, "--data", newLabelled.path, "--json",
                                        "--out", folder.appendingPathComponent("b.csv").path])
        #expect(scored.status == 0, "\(scored.stderr)")
        let a = try Self.scores(folder.appendingPathComponent("a.csv")), b = try Self.scores(folder.appendingPathComponent("b.csv"))
        #expect(a == b)
        let auc = try #require(CLIRunner.json(scored)?["roc_auc"] as? Double)
        #expect(abs(Self.rocAUC(b, Self.newLabels) - auc) < 1e-12, "\(auc)")
        // a label column named on the command line must be there
        let missing = try CLIRunner.run(["detect", "--run", run.path, "--data", new.path, "--label-column", "malignant"])
        #expect(missing.status == 1 && missing.stderr == "error: new.csv:1: no column \"malignant\" in the header\n", "\(missing.stderr)")
    }

    @Test func contaminatedRowsSetTheThresholdAtTheirExpectedQuantile() throws {
        let folder = try CLIRunner.temporaryFolder()
        // 200 benign rows and 20 malignant ones among them, unlabelled
        var mixed = Array(Self.benign.prefix(200))
        for (i, row) in Self.malignant.prefix(20).enumerated() { mixed.insert(row, at: i * 10 + 5) }
        let isMalignant = mixed.map { Set(Self.malignant.prefix(20)).contains($0) }
        let data = try Self.write("contaminated.csv", mixed, in: folder)
        let run = folder.appendingPathComponent("run")
        let train = try CLIRunner.run(["train", "--data", data.path, "--contamination", "0.1", "--ensemble", "2",
                                       "--device", "cpu", "--out", run.path])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("expected contamination 0.1: detect flags scores above the 90th percentile of all 220 training rows"),
                "\(train.stdout)")
        let detect = try CLIRunner.run(["detect", "--run", run.path, "--data", data.path, "--json"])
        #expect(detect.status == 0, "\(detect.stderr)")
        let line = try #require(CLIRunner.json(detect))
        #expect(line["threshold_rule"] as? String == "percentile:90")
        #expect(line["samples"] as? Int == 220)
        let flagged = try #require(line["flagged"] as? Int)
        #expect((20...24).contains(flagged), "\(flagged) of 220 flagged")
        // the malignant rows hidden in the training data rank high (a detector that learned nothing: 0.5)
        let scores = try Self.scores(run.appendingPathComponent("scores.csv"))
        #expect(Self.rocAUC(scores, isMalignant) > 0.8)
        let refused = try CLIRunner.run(["train", "--data", data.path, "--contamination", "0.5", "--device", "cpu"])
        #expect(refused.status == 2 && refused.stderr.contains("--contamination must lie between 0 and 0.5"), "\(refused.stderr)")
    }

    @Test func aThirtyRowTableTrainsWithTheBatchFollowingTheData() throws {
        let folder = try CLIRunner.temporaryFolder()
        let tiny = try Self.write("tiny.csv", Array(Self.benign.prefix(30)), in: folder)
        let run = folder.appendingPathComponent("run")
        let train = try CLIRunner.run(["train", "--data", tiny.path, "--detector", "--device", "cpu", "--out", run.path])
        #expect(train.status == 0, "\(train.stderr)")
        let config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("config.json"))) as? [String: Any])
        #expect((config["training"] as? [String: Any])?["batchSize"] as? Int == 27)
        let new = try Self.write("new.csv", Self.newRows, in: folder)
        let detect = try CLIRunner.run(["detect", "--run", run.path, "--data", new.path])
        #expect(detect.status == 0, "\(detect.stderr)")
        // an explicit batch larger than the table is still refused, in one line
        let refused = try CLIRunner.run(["train", "--data", tiny.path, "--detector", "--batch-size", "64", "--device", "cpu",
                                         "--out", folder.appendingPathComponent("other").path])
        #expect(refused.status == 2 && refused.stderr == "error: --batch-size 64 is larger than the 27 training samples: use --batch-size 27 or less\n",
                "\(refused.stderr)")
    }

    @Test func aStreamedFileScoresAsTheSameRowsLoadedWhole() throws {
        let folder = try CLIRunner.temporaryFolder()
        let run = try Self.detector(normalRows: 200, ensemble: 2, in: folder).run
        let values = Self.newRows.flatMap { $0.split(separator: ",").map { Float($0)! } }
        let npy = folder.appendingPathComponent("new.npy")
        try DataAsWrittenTests.npy(descr: "<f4", shape: [Self.newRows.count, 30], payload: DataAsWrittenTests.float32(values))
            .write(to: npy)
        let csv = try Self.write("new.csv", Self.newRows, in: folder)
        let whole = try CLIRunner.run(["detect", "--run", run.path, "--data", csv.path, "--out", folder.appendingPathComponent("whole.csv").path])
        let streamed = try CLIRunner.run(["detect", "--run", run.path, "--data", npy.path, "--stream",
                                          "--out", folder.appendingPathComponent("streamed.csv").path])
        #expect(whole.status == 0 && streamed.status == 0, "\(whole.stderr) \(streamed.stderr)")
        let a = try Self.scores(folder.appendingPathComponent("whole.csv")), b = try Self.scores(folder.appendingPathComponent("streamed.csv"))
        #expect(a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($0)) })
    }

    @Test func badFilesGiveOneLineAndANonZeroExit() throws {
        let folder = try CLIRunner.temporaryFolder()
        let run = try Self.detector(normalRows: 60, ensemble: 1, in: folder).run
        let narrow = folder.appendingPathComponent("narrow.csv"), empty = folder.appendingPathComponent("empty.csv")
        let text = folder.appendingPathComponent("text.csv")
        try (Self.featureHeader.split(separator: ",").dropLast().joined(separator: ",") + "\n"
             + Self.newRows.prefix(3).map { $0.split(separator: ",").dropLast().joined(separator: ",") }.joined(separator: "\n") + "\n")
            .write(to: narrow, atomically: true, encoding: .utf8)
        try (Self.featureHeader + "\n").write(to: empty, atomically: true, encoding: .utf8)
        try (Self.featureHeader + "\n" + Self.newRows[0] + "\nn/a" + Self.newRows[1].drop { $0 != "," } + "\n")
            .write(to: text, atomically: true, encoding: .utf8)
        let expected = [
            (narrow, "error: narrow.csv: mismatch: samples have 29 features, the run was trained on 30\n"),
            (empty, "error: empty.csv: malformed: header but no data rows\n"),
            (text, "error: text.csv:3: non-numeric value \"n/a\" in column \"mean_radius\"\n"),
        ]
        for (file, message) in expected {
            let detect = try CLIRunner.run(["detect", "--run", run.path, "--data", file.path])
            #expect(detect.status == 1 && detect.stderr == message, "\(file.lastPathComponent): \(detect.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: run.appendingPathComponent("scores.csv").path))
    }
}
