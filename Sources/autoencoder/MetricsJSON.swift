import AutoencoderKit

/// Metrics as JSON dictionaries for `--json` lines.
enum MetricsJSON {
    static func train(_ m: EpochMetrics) -> [String: Any] {
        var d: [String: Any] = ["loss": m.loss, "reconstruction": m.reconstruction, "samples_per_second": m.samplesPerSecond,
                                "learning_rate": m.learningRate]
        if let v = m.kl { d["kl"] = v }
        if let v = m.beta { d["beta"] = v }
        if let v = m.activeUnits { d["active_units"] = v }
        if let v = m.perplexity { d["perplexity"] = v }
        if let v = m.codebookUsage { d["codebook_usage"] = v }
        if let v = m.l0 { d["l0"] = v }
        if let v = m.deadUnits { d["dead_units"] = v }
        if let v = m.explainedVariance { d["explained_variance"] = v }
        if let v = m.resampledUnits { d["resampled_units"] = v }
        if let v = m.penalty { d["penalty"] = v }
        return d
    }

    static func validation(_ m: EpochMetrics) -> [String: Any]? {
        guard let loss = m.validationLoss else { return nil }
        var d: [String: Any] = ["loss": loss]
        if let v = m.validationReconstruction { d["reconstruction"] = v }
        if let v = m.validationKL { d["kl"] = v }
        return d
    }

    static func evaluation(_ r: EvaluationResult) -> [String: Any] {
        var d: [String: Any] = ["loss": r.loss, "reconstruction": r.reconstruction]
        if let v = r.kl { d["kl"] = v }
        if let v = r.penalty { d["penalty"] = v }
        return d
    }
}
