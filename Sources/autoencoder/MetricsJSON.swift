import AutoencoderKit
import Foundation

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
        if let draws = r.latentDraws { d["loss_estimate"] = "sampled negative ELBO"; d["elbo_draws"] = draws }
        return d
    }

    /// What a VAE's loss is, for a text line: " (sampled negative ELBO, 1 draw of z per sample)"; empty otherwise.
    static func estimateNote(_ r: EvaluationResult) -> String {
        guard let draws = r.latentDraws else { return "" }
        return " (loss: sampled negative ELBO, \(Terminal.count(draws, "draw")) of z per sample)"
    }

    /// `r` when every mean term is finite; otherwise one line naming `data` and the terms that are not.
    ///
    /// - Throws: `DataError.nonFinite`: the data is likely on another scale than the run's training data.
    static func finite(_ r: EvaluationResult, data: String) throws -> EvaluationResult {
        let terms = [("loss", r.loss), ("reconstruction", r.reconstruction), ("KL", r.kl), ("penalty", r.penalty)]
            .compactMap { name, value in value.map { (name, $0) } }
        let bad = terms.filter { !$0.1.isFinite }
        guard !bad.isEmpty else { return r }
        let listed = bad.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        throw DataError(file: data, .nonFinite("\(listed) on this data: is it on the scale the run was trained on (see its config.json normalizer)?"))
    }
}
