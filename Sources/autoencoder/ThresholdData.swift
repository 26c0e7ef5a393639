import AutoencoderKit
import Foundation

/// The samples `detect` chooses its threshold on — never the samples it judges — and where they came from.
struct ThresholdData {
    /// The samples, through the run's normalizer, loaded whole or streamed.
    let data: DetectionData
    /// Where they came from, as printed: a file, or which split of the run's data.
    let name: String

    /// `path`, else the run's validation split (the training split when the run kept none), or for a detector
    /// fitted on contaminated rows (``RunConfig/contamination``) all its training rows, streamed where `choice` or
    /// the run says so (``DetectionData/load(_:for:split:csv:requireLabels:choice:device:)``).
    static func load(_ path: String?, for config: RunConfig, csv: CSVOptions, choice: StreamChoice,
                     device: any Device) throws -> ThresholdData {
        if let path {
            return ThresholdData(data: try DetectionData.load(path, for: config, split: .test, csv: csv, choice: choice, device: device),
                                 name: path)
        }
        if let contamination = config.contamination {
            return ThresholdData(data: try DetectionData.load(nil, for: config, split: .train, csv: csv, choice: choice, device: device),
                                 name: "the run's training rows (contamination \(contamination))")
        }
        let validation = try DetectionData.load(nil, for: config, split: .validation, csv: csv, choice: choice, device: device)
        let training = try DetectionData.load(nil, for: config, split: .train, csv: csv, choice: choice, device: device)
        guard validation.count < training.count else {
            return ThresholdData(data: validation, name: "the run's training split (it kept no validation split)")
        }
        return ThresholdData(data: validation, name: "the run's validation split")
    }

    /// Whether a sample counts as normal: its label is the normal label, or there are no labels.
    private func isNormal(_ index: Int, _ normalLabel: Int32) -> Bool {
        data.labels.map { $0[index] == normalLabel } ?? true
    }

    /// Samples with labels of both kinds, normal and anomalous (what the F1 rule needs).
    func hasBothClasses(normalLabel: Int32) -> Bool {
        guard let labels = data.labels else { return false }
        return labels.contains(normalLabel) && labels.contains { $0 != normalLabel }
    }

    /// The number of normal samples.
    func normalCount(_ normalLabel: Int32) -> Int {
        (0..<data.count).filter { isNormal($0, normalLabel) }.count
    }

    /// "N normal samples" or "N normal and M anomalous samples".
    func describeCounts(_ normalLabel: Int32) -> String {
        let normal = normalCount(normalLabel), anomalous = data.count - normal
        return anomalous > 0 ? "\(normal) normal and \(anomalous) anomalous samples" : "\(normal) normal samples"
    }

    /// The threshold of `rule`: F1 from these samples' scores and labels, the other rules from the scores of the
    /// normal ones.
    func threshold(_ rule: ThresholdRule, scores: [Double], normalLabel: Int32) throws -> Double {
        if rule.needsLabels {
            let anomalous = data.labels.map { $0.map { $0 != normalLabel } }
            return try rule.threshold(validation: [], scores: scores, labels: anomalous)
        }
        let normal = scores.indices.filter { isNormal($0, normalLabel) }.map { scores[$0] }
        return try rule.threshold(validation: normal, scores: [], labels: nil)
    }

    /// The fraction of the normal samples scored above `threshold`: the false-positive rate to expect on new
    /// normal data.
    func falsePositiveRate(scores: [Double], threshold: Double, normalLabel: Int32) -> Double {
        let normal = scores.indices.filter { isNormal($0, normalLabel) }
        return Double(normal.filter { scores[$0] > threshold }.count) / Double(max(normal.count, 1))
    }
}
