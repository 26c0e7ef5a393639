import ArgumentParser
import AutoencoderKit
import Foundation

/// `autoencoder detect`: anomaly scores, a threshold, and detection metrics.
struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Score samples by how unlike the normal training data they are and flag anomalies.",
        discussion: """
        Scores: the default for tables is standardized+code (per-feature squared errors scaled by their mean on \
        the normal training rows, plus the Mahalanobis distance of the code), for images the model's loss; each \
        model's score is standardized on the normal training rows and an ensemble (train --ensemble) averages \
        them. The threshold comes from data the scores are not judged on: percentile, sigma and fpr rules from \
        normal validation data (default: the run's own validation split, only normal samples for a run trained \
        with --normal-label; every training row of a run trained with --contamination), f1 from a labelled \
        --validation file. Files without the run's label column are scored unlabelled. With labels, a sample is an anomaly when its \
        label differs from the run's normal label (default 0). Writes DIR/scores.csv and, with labels, DIR/roc.png \
        unless --out/--roc say otherwise. A streamed run's splits, and .npy files or shard folders over the memory \
        budget, are scored a batch at a time. Example: autoencoder train --data breast-cancer --normal-label 0 \
        --normal-count 250 --out bc; autoencoder detect --run bc
        """)

    @Option(name: .customLong("run"), help: "The run folder written by `autoencoder train`.") var runPath: String
    @Option(help: "Data to score, every row of it (default: the run's own test split).") var data: String?
    @Option(help: "Data whose scores set the threshold: normal samples, or for f1 labelled normal and anomalous ones (default: the run's validation split).") var validation: String?
    @OptionGroup var columns: ColumnOptions
    @Option(help: "percentile:P, sigma:K, fpr:R (from normal validation scores) or f1 (from a labelled --validation file). (default: percentile:95; for a run trained with --contamination C, percentile:100(1 − C) of its training rows' scores)",
            transform: ThresholdRule.init(parsing:)) var threshold: ThresholdRule?
    @Option(help: .choice("What scores a sample: loss is the reconstruction term (the negative ELBO for VAEs); the standardized scores are described below (default: standardized+code for tables, loss for images).", of: AnomalyScoreKind.self),
            transform: AnomalyScoreKind.choice(of: "--score")) var score: AnomalyScoreKind?
    @Option(help: "VAEs with --score loss: reparameterized draws averaged per score.") var draws: Int = 8
    @Option(help: "Write index,score,label,flagged rows to this CSV file (default DIR/scores.csv).") var out: String?
    @Option(help: "Write the ROC curve to this PNG file (default DIR/roc.png when the data has both classes).") var roc: String?
    @Option(help: "Samples per batch.") var batchSize: Int = 256
    @OptionGroup var streaming: StreamChoice
    @Flag(help: "Print one JSON line.") var json = false
    @OptionGroup var deviceOptions: DeviceOptions

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        guard draws > 0 else { throw ValidationError("--draws must be positive") }
    }

    func run() throws {
        let device = try deviceOptions.open()
        let directory = RunDirectory(url: URL(fileURLWithPath: runPath))
        let config = try directory.readConfig()
        let rule = try threshold ?? config.contamination.map(ThresholdRule.contamination) ?? .percentile(95)
        let kind = score ?? DetectionRecipe(isTable: config.data.shape.count == 1).score
        let csv = try columns.csv(for: config, files: data != nil || validation != nil)
        // --data scores every row of the file, the run's own training file included; without it, the test split
        let dataset = try DetectionData.load(data, for: config, split: data == nil ? .test : .all, csv: csv,
                                             requireLabels: columns.requiresLabels,
                                             choice: streaming, device: device)
        // --stream with --data or --validation streams those files; the run's own splits stream as the run did
        let ownChoice = data != nil || validation != nil ? streaming.forRunSplits : streaming
        let calibration = try ThresholdData.load(validation, for: config, csv: csv, choice: validation != nil ? streaming : ownChoice,
                                                 device: device)
        let fitted = try DetectionData.load(nil, for: config, split: .training, csv: csv, choice: ownChoice, device: device)
        let normalLabel = config.data.normalSplit?.label ?? 0
        guard dataset.count > 0 else { throw DataError(file: data ?? runPath, .invalidArgument("no samples to score")) }
        if rule.needsLabels && !calibration.hasBothClasses(normalLabel: normalLabel) {
            throw ConfigError.invalid("--threshold f1 needs --validation FILE with labelled normal and anomalous samples: a threshold is never chosen on the data it is judged on, and \(calibration.name) holds no anomalies")
        }
        let batch = min(batchSize, max(dataset.count, calibration.data.count, fitted.count))
        let models = try directory.loadEnsemble(device: device, batchSize: batch, config: config)
        let ensemble = try fitted.ensemble(models: models, kind: kind, seed: config.training.seed, draws: draws, device: device,
                                           batchSize: batch)
        let scores = try dataset.scores(ensemble, device: device, batchSize: batch)
        let calibrationScores = try calibration.data.scores(ensemble, device: device, batchSize: batch)
        let cut = try calibration.threshold(rule, scores: calibrationScores, normalLabel: normalLabel)
        let expectedFPR = calibration.falsePositiveRate(scores: calibrationScores, threshold: cut, normalLabel: normalLabel)
        let flagged = scores.map { $0 > cut }
        let anomalous = dataset.labels.map { $0.map { $0 != normalLabel } }
        let bothClasses = anomalous.map { $0.contains(true) && $0.contains(false) } ?? false
        if roc != nil && !bothClasses { throw ConfigError.invalid("--roc needs labelled data with both normal and anomalous samples") }

        let outURL = URL(fileURLWithPath: out ?? directory.url.appendingPathComponent("scores.csv").path)
        let rocURL = roc.map { URL(fileURLWithPath: $0) } ?? (bothClasses ? directory.url.appendingPathComponent("roc.png") : nil)
        var lines = ["index,score,label,flagged"]
        for i in scores.indices {
            let label = dataset.labels.map { String($0[i]) } ?? ""
            // the shortest decimal that reads back as the same double: no ties the scores do not have
            lines.append("\(i),\(scores[i]),\(label),\(flagged[i] ? 1 : 0)")
        }
        var line: [String: Any] = ["threshold": cut, "threshold_rule": rule.description, "samples": scores.count,
                                   "flagged": flagged.filter { $0 }.count, "normal_samples": calibration.normalCount(normalLabel),
                                   "threshold_data": calibration.name, "expected_fpr": expectedFPR,
                                   "score": kind.rawValue, "ensemble": models.count, "out": outURL.path]
        var curve: LinePlot?
        if let anomalous {
            let (precision, recall, f1) = DetectionMetrics.classification(scores: scores, labels: anomalous, threshold: cut)
            line["precision"] = precision
            line["recall"] = recall
            line["f1"] = f1
            line["anomalies"] = anomalous.filter { $0 }.count
            if let auc = DetectionMetrics.rocAUC(scores: scores, labels: anomalous) { line["roc_auc"] = auc }
            if let ap = DetectionMetrics.averagePrecision(scores: scores, labels: anomalous) { line["pr_auc"] = ap }
            if rocURL != nil {
                let points = DetectionMetrics.rocCurve(scores: scores, labels: anomalous)
                let series = LinePlot.Series(name: String(format: "%@ (AUC %.3f)", config.model.kind.rawValue, line["roc_auc"] as? Double ?? 0),
                                             x: points.map(\.fpr), y: points.map(\.tpr))
                curve = LinePlot.roc([series], title: "ROC: \(dataset.name)")
            }
        }
        try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: outURL)
        if let curve, let rocURL {
            try curve.write(to: rocURL)
            line["roc"] = rocURL.path
        }
        if json {
            try Terminal.printJSON(line)
            return
        }
        let ensembleNote = models.count > 1 ? ", ensemble of \(models.count)" : ""
        print("\(scores.count) samples of \(dataset.name) scored on \(device.info) (\(kind.rawValue)\(ensembleNote)): \(line["flagged"] ?? 0) flagged")
        if let contamination = config.contamination, validation == nil {
            print("threshold \(String(format: "%.4g", cut)) (\(rule), chosen on \(calibration.name), \(calibration.data.count) rows); it flags \(String(format: "%.1f%%", 100 * expectedFPR)) of them, for an expected contamination of \(String(format: "%g%%", 100 * contamination))")
        } else {
            print("threshold \(String(format: "%.4g", cut)) (\(rule), chosen on \(calibration.name), \(calibration.describeCounts(normalLabel))); expected false-positive rate \(String(format: "%.1f%%", 100 * expectedFPR))")
        }
        if let precision = line["precision"] as? Double, let recall = line["recall"] as? Double, let f1 = line["f1"] as? Double {
            print(String(format: "precision %.4f  recall %.4f  F1 %.4f", precision, recall, f1)
                  + ((line["roc_auc"] as? Double).map { String(format: "  ROC-AUC %.4f", $0) } ?? "")
                  + ((line["pr_auc"] as? Double).map { String(format: "  PR-AUC %.4f", $0) } ?? ""))
        }
        print("wrote \(outURL.path)" + (line["roc"].map { ", \($0)" } ?? ""))
    }
}
