import ArgumentParser
import AutoencoderKit
import Foundation

/// `autoencoder detect`: anomaly scores, a threshold, and detection metrics.
struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Score samples by reconstruction error (negative ELBO for VAEs) and flag anomalies.",
        discussion: """
        The threshold comes from scores of normal validation data (default: the run's own validation split, \
        which holds only normal samples for a run trained with --normal-label). With labels, a sample is an \
        anomaly when its label differs from the run's normal label (default 0; for breast-cancer: malignant). \
        Example: autoencoder train --data breast-cancer --normal-label 0 --normal-count 250 --out bc; \
        autoencoder detect --run bc --roc roc.png
        """)

    @Option(name: .customLong("run"), help: "The run folder written by `autoencoder train`.") var runPath: String
    @Option(help: "Data to score (default: the run's own test split).") var data: String?
    @Option(help: "Normal data whose scores set the threshold (default: the run's validation split).") var validation: String?
    @Option(help: "percentile:P, sigma:K, f1 (needs labels) or fpr:R.") var threshold: String = "percentile:95"
    @Option(help: "VAEs: reparameterized draws averaged per score.") var draws: Int = 8
    @Option(help: "Write index,score,label,flagged rows to this CSV file.") var out: String?
    @Option(help: "Write the ROC curve to this PNG file (needs labels).") var roc: String?
    @Option(help: "Samples per batch.") var batchSize: Int = 256
    @Flag(help: "Print one JSON line.") var json = false
    @OptionGroup var deviceOptions: DeviceOptions

    func run() throws {
        let rule = try ThresholdRule(parsing: threshold)
        guard batchSize > 0 else { throw ConfigError.invalid("--batch-size must be positive") }
        guard draws > 0 else { throw ConfigError.invalid("--draws must be positive") }
        let device = try deviceOptions.open()
        let directory = RunDirectory(url: URL(fileURLWithPath: runPath))
        let config = try directory.readConfig()
        let dataset = try PreparedData.load(source: data, for: config)
        let normalData = try PreparedData.load(source: validation, for: config, split: .validation)
        guard dataset.count > 0, normalData.count > 0 else {
            throw DataError(file: data ?? runPath, .invalidArgument("no samples to score"))
        }
        let batch = min(batchSize, dataset.count, normalData.count)
        let (model, _) = try directory.loadModel(device: device, batchSize: batch, config: config)
        let seed = config.training.seed
        let scores = try AnomalyScores.scores(model: model, data: dataset, seed: seed, draws: draws)
        let normalScores = try AnomalyScores.scores(model: model, data: normalData, seed: seed, draws: draws)
        let normalLabel = config.data.normalSplit?.label ?? 0
        let anomalous = dataset.labels.map { $0.map { $0 != normalLabel } }
        let cut = try rule.threshold(validation: normalScores, scores: scores, labels: anomalous)
        let flagged = scores.map { $0 > cut }

        if let out {
            var lines = ["index,score,label,flagged"]
            for i in scores.indices {
                let label = dataset.labels.map { String($0[i]) } ?? ""
                lines.append("\(i),\(String(format: "%.6g", scores[i])),\(label),\(flagged[i] ? 1 : 0)")
            }
            try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: URL(fileURLWithPath: out))
        }
        var line: [String: Any] = ["threshold": cut, "threshold_rule": rule.description, "samples": scores.count,
                                   "flagged": flagged.filter { $0 }.count, "normal_samples": normalScores.count]
        if let anomalous {
            let (precision, recall, f1) = DetectionMetrics.classification(scores: scores, labels: anomalous, threshold: cut)
            line["precision"] = precision
            line["recall"] = recall
            line["f1"] = f1
            line["anomalies"] = anomalous.filter { $0 }.count
            if let auc = DetectionMetrics.rocAUC(scores: scores, labels: anomalous) { line["roc_auc"] = auc }
            if let ap = DetectionMetrics.averagePrecision(scores: scores, labels: anomalous) { line["pr_auc"] = ap }
            if let roc {
                let curve = DetectionMetrics.rocCurve(scores: scores, labels: anomalous)
                guard !curve.isEmpty else { throw ConfigError.invalid("--roc needs both normal and anomalous samples") }
                let auc = line["roc_auc"] as? Double ?? 0
                let series = LinePlot.Series(name: String(format: "%@ (AUC %.3f)", config.model.kind.rawValue, auc),
                                             x: curve.map(\.fpr), y: curve.map(\.tpr))
                try LinePlot.roc([series], title: "ROC: \(dataset.name)").write(to: URL(fileURLWithPath: roc))
            }
        } else if rule.needsLabels || roc != nil {
            throw ConfigError.invalid("--threshold f1 and --roc need labelled data")
        }
        if json {
            try Terminal.printJSON(line)
        } else {
            print("\(scores.count) samples of \(dataset.name) scored on \(device.info); threshold \(String(format: "%.4g", cut)) (\(rule), from \(normalScores.count) normal samples): \(line["flagged"] ?? 0) flagged")
            if let precision = line["precision"] as? Double, let recall = line["recall"] as? Double, let f1 = line["f1"] as? Double {
                print(String(format: "precision %.4f  recall %.4f  F1 %.4f", precision, recall, f1)
                      + ((line["roc_auc"] as? Double).map { String(format: "  ROC-AUC %.4f", $0) } ?? "")
                      + ((line["pr_auc"] as? Double).map { String(format: "  PR-AUC %.4f", $0) } ?? ""))
            }
            if let out { print("wrote \(out)") }
            if let roc { print("wrote \(roc)") }
        }
    }
}
