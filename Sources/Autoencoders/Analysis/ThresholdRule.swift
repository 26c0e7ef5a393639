import Foundation

/// How an anomaly threshold is chosen; a sample is flagged when its score is strictly above the threshold.
public enum ThresholdRule: Equatable, Sendable, CustomStringConvertible {
    /// The p-th percentile (0…100) of the normal validation scores (linear interpolation).
    case percentile(Double)
    /// μ + k·σ of the normal validation scores (σ the population standard deviation).
    case sigma(Double)
    /// The threshold that maximizes F1 on labelled validation scores (normal and anomalous samples held out
    /// from the data the threshold then judges).
    case f1
    /// The smallest normal validation score s with #{v > s}/n ≤ r: at most a fraction r of the normal
    /// validation samples is flagged, the target false-positive rate.
    case falsePositiveRate(Double)

    /// Parses `percentile:P`, `sigma:K`, `f1` or `fpr:R`.
    public init(parsing text: String) throws {
        let parts = text.lowercased().split(separator: ":", maxSplits: 1).map(String.init)
        let value = parts.count == 2 ? Double(parts[1]) : nil
        switch (parts.first ?? "", value) {
        case ("percentile", let p?) where p >= 0 && p <= 100: self = .percentile(p)
        case ("sigma", let k?) where k.isFinite: self = .sigma(k)
        case ("f1", nil) where parts.count == 1: self = .f1
        case ("fpr", let r?) where r >= 0 && r <= 1: self = .falsePositiveRate(r)
        default:
            throw ConfigError.invalid("--threshold '\(text)': use percentile:P (0–100), sigma:K, f1 or fpr:R (0–1)")
        }
    }

    /// The threshold of a detector fitted on rows with an expected fraction `contamination` of anomalies (PyOD's
    /// `contamination`, 0 < c < 0.5): the (1 − c) quantile of those rows' scores, ``percentile(_:)`` 100·(1 − c).
    ///
    /// - Throws: `ConfigError.invalid` for a fraction outside (0, 0.5).
    public static func contamination(_ fraction: Double) throws -> ThresholdRule {
        guard fraction > 0 && fraction < 0.5 else {
            throw ConfigError.invalid("--contamination must lie between 0 and 0.5 (the expected fraction of anomalies), got \(fraction)")
        }
        return .percentile(100 * (1 - fraction))
    }

    /// The command-line form.
    public var description: String {
        switch self {
        case .percentile(let p): return "percentile:\(p.formatted())"
        case .sigma(let k): return "sigma:\(k.formatted())"
        case .f1: return "f1"
        case .falsePositiveRate(let r): return "fpr:\(r.formatted())"
        }
    }

    /// Whether the rule needs labelled samples of both kinds.
    public var needsLabels: Bool { self == .f1 }

    /// The threshold from the normal `validation` scores, or for ``f1`` from labelled validation `scores` and
    /// `labels` (true: anomaly).
    ///
    /// - Throws: `ConfigError.invalid` when the rule's data is missing (no validation scores; F1 without both
    ///   classes).
    public func threshold(validation: [Double], scores: [Double], labels: [Bool]?) throws -> Double {
        switch self {
        case .percentile(let p):
            guard !validation.isEmpty else { throw ConfigError.invalid("no validation scores to take a percentile of") }
            return DetectionMetrics.percentile(validation, p)
        case .sigma(let k):
            guard !validation.isEmpty else { throw ConfigError.invalid("no validation scores for mean + k·σ") }
            let n = Double(validation.count)
            let mean = validation.reduce(0, +) / n
            let variance = validation.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n
            return mean + k * variance.squareRoot()
        case .falsePositiveRate(let r):
            guard !validation.isEmpty else { throw ConfigError.invalid("no validation scores for a false-positive rate") }
            let sorted = validation.sorted()
            // flagged above sorted[i] are the n − 1 − i larger entries (fewer with ties above it)
            let allowed = Int((r * Double(sorted.count)).rounded(.down))
            return sorted[max(sorted.count - 1 - allowed, 0)]
        case .f1:
            guard let labels, labels.contains(true), labels.contains(false) else {
                throw ConfigError.invalid("--threshold f1 needs labelled data with both normal and anomalous samples")
            }
            return Self.f1Optimal(scores: scores, labels: labels)
        }
    }

    /// The threshold t among {−∞} ∪ scores maximizing F1 of flagging scores > t (the smallest t on ties).
    static func f1Optimal(scores: [Double], labels: [Bool]) -> Double {
        let positives = labels.filter { $0 }.count
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        // flagging the top m: threshold just below the m-th score, i.e. the next lower distinct score
        var best = (f1: 0.0, threshold: scores.max() ?? 0)
        var tp = 0, start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && scores[order[end + 1]] == scores[order[start]] { end += 1 }
            for i in start...end where labels[order[i]] { tp += 1 }
            let flagged = end + 1
            let f1 = 2 * Double(tp) / Double(flagged + positives)
            let threshold = end + 1 < order.count ? scores[order[end + 1]] : -Double.infinity
            if f1 > best.f1 { best = (f1, threshold) }
            start = end + 1
        }
        return best.threshold
    }
}
