import AutoencoderKit
import Foundation

/// Metrics as JSON dictionaries for `--json` lines.
enum MetricsJSON {
    static func train(_ m: EpochMetrics) -> [String: Any] { m.jsonValues(.train) }

    static func validation(_ m: EpochMetrics) -> [String: Any]? {
        m.validationLoss == nil ? nil : m.jsonValues(.validation)
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
