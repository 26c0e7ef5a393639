import Foundation

/// Ranking and threshold metrics of anomaly scores against binary labels (1 = anomaly, 0 = normal); a higher
/// score means more anomalous.
public enum DetectionMetrics {
    /// Area under the ROC curve by the Mann–Whitney U statistic:
    /// AUC = (R₁ − n₁(n₁ + 1)/2) / (n₁·n₀), where R₁ is the sum of the anomalies' ranks among all scores and
    /// tied scores share their mean rank, so a tie between an anomaly and a normal sample counts ½.
    /// Returns nil unless both classes are present.
    public static func rocAUC(scores: [Double], labels: [Bool]) -> Double? {
        precondition(scores.count == labels.count, "one label per score")
        let positives = labels.filter { $0 }.count, negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && scores[order[end + 1]] == scores[order[start]] { end += 1 }
            let meanRank = Double(start + end) / 2 + 1
            for i in start...end where labels[order[i]] { rankSum += meanRank }
            start = end + 1
        }
        let p = Double(positives), n = Double(negatives)
        return (rankSum - p * (p + 1) / 2) / (p * n)
    }

    /// Average precision, the area under the precision–recall curve as a step sum:
    /// AP = Σ_t (R_t − R_{t−1})·P_t over the distinct score thresholds t taken from high to low (samples with
    /// equal scores enter together), as scikit-learn's `average_precision_score`. Nil without anomalies.
    public static func averagePrecision(scores: [Double], labels: [Bool]) -> Double? {
        precondition(scores.count == labels.count, "one label per score")
        let positives = labels.filter { $0 }.count
        guard positives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var truePositives = 0, seen = 0, previousRecall = 0.0, ap = 0.0
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && scores[order[end + 1]] == scores[order[start]] { end += 1 }
            for i in start...end where labels[order[i]] { truePositives += 1 }
            seen = end + 1
            let recall = Double(truePositives) / Double(positives)
            ap += (recall - previousRecall) * Double(truePositives) / Double(seen)
            previousRecall = recall
            start = end + 1
        }
        return ap
    }

    /// The ROC curve: (false-positive rate, true-positive rate) points from (0, 0) to (1, 1), one per distinct
    /// score threshold taken from high to low. Empty unless both classes are present.
    public static func rocCurve(scores: [Double], labels: [Bool]) -> [(fpr: Double, tpr: Double)] {
        let positives = labels.filter { $0 }.count, negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { return [] }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var points: [(fpr: Double, tpr: Double)] = [(0, 0)]
        var tp = 0, fp = 0, start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && scores[order[end + 1]] == scores[order[start]] { end += 1 }
            for i in start...end { if labels[order[i]] { tp += 1 } else { fp += 1 } }
            points.append((Double(fp) / Double(negatives), Double(tp) / Double(positives)))
            start = end + 1
        }
        return points
    }

    /// Precision, recall and F1 of flagging every score strictly above `threshold`:
    /// P = TP/(TP + FP) (0 when nothing is flagged), R = TP/(TP + FN) (0 without anomalies), F1 = 2PR/(P + R).
    public static func classification(scores: [Double], labels: [Bool], threshold: Double)
        -> (precision: Double, recall: Double, f1: Double) {
        precondition(scores.count == labels.count, "one label per score")
        var tp = 0, fp = 0, fn = 0
        for (score, label) in zip(scores, labels) {
            let flagged = score > threshold
            if flagged && label { tp += 1 } else if flagged { fp += 1 } else if label { fn += 1 }
        }
        let precision = tp + fp > 0 ? Double(tp) / Double(tp + fp) : 0
        let recall = tp + fn > 0 ? Double(tp) / Double(tp + fn) : 0
        let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
        return (precision, recall, f1)
    }

    /// The p-th percentile (0…100) of `values` by linear interpolation between order statistics
    /// (NumPy's default): position h = (n − 1)·p/100, value x₍⌊h⌋₎ + (h − ⌊h⌋)(x₍⌊h⌋+1₎ − x₍⌊h⌋₎).
    ///
    /// - Precondition: `values` is not empty.
    public static func percentile(_ values: [Double], _ p: Double) -> Double {
        precondition(!values.isEmpty, "percentile of no values")
        let sorted = values.sorted()
        let h = Double(sorted.count - 1) * min(max(p, 0), 100) / 100
        let low = Int(h.rounded(.down)), high = min(low + 1, sorted.count - 1)
        return sorted[low] + (h - Double(low)) * (sorted[high] - sorted[low])
    }
}
