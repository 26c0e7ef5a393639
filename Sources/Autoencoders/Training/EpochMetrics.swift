import Foundation

/// What one epoch of training measured. Optional terms are present only for the models that have them.
public struct EpochMetrics: Codable, Equatable, Sendable {
    /// Epoch number, from 1.
    public var epoch: Int
    /// Optimizer steps taken so far.
    public var step: Int
    /// Mean training loss per sample (the objective optimized, including β and penalties).
    public var loss: Double
    /// Mean reconstruction term per sample (summed over features).
    public var reconstruction: Double
    /// Mean KL(q(z|x) ‖ p(z)) per sample (VAEs).
    public var kl: Double?
    /// Mean KL per latent dimension over the epoch (VAEs).
    public var klPerDimension: [Double]?
    /// Latent dimensions whose posterior mean varies over the data (Var μ > 0.01) (VAEs).
    public var activeUnits: Int?
    /// The KL weight in force at the end of the epoch (VAEs).
    public var beta: Double?
    /// exp(entropy) of code usage over the epoch (VQ-VAE).
    public var perplexity: Double?
    /// Fraction of codebook entries used at least once in the epoch (VQ-VAE).
    public var codebookUsage: Double?
    /// Mean number of non-zero code entries per sample (sparse autoencoders): over the training epoch, or for a
    /// sparse autoencoder on activations (``SAEOptions``) with a validation split, over it after the epoch.
    public var l0: Double?
    /// Code units that were zero for every sample (sparse autoencoders): of the training epoch, or as ``l0`` of
    /// the validation split.
    public var deadUnits: Int?
    /// Sparse autoencoders on activations (``SAEOptions``): 1 − Σ‖x − x̂‖² / Σ‖x − x̄‖² (1 − FVU) on the validation
    /// split after the epoch, x̄ the mean sample of that split; without one, over the training epoch's own
    /// reconstructions (the model changing as it goes).
    public var explainedVariance: Double?
    /// Sparse autoencoders on activations: latents re-initialized after the epoch because they never fired.
    public var resampledUnits: Int?
    /// The extra penalty term per sample (sparsity L1, contractive ‖J‖², VQ codebook + commitment).
    public var penalty: Double?
    /// Validation loss per sample, when a validation split is held out.
    public var validationLoss: Double?
    /// Validation reconstruction term per sample.
    public var validationReconstruction: Double?
    /// Validation KL per sample (VAEs).
    public var validationKL: Double?
    /// Learning rate at the end of the epoch.
    public var learningRate: Double
    /// Training samples processed per second of wall time.
    public var samplesPerSecond: Double
    /// Wall seconds the epoch took.
    public var seconds: Double

    public init(epoch: Int, step: Int, loss: Double, reconstruction: Double, learningRate: Double,
                samplesPerSecond: Double, seconds: Double) {
        self.epoch = epoch
        self.step = step
        self.loss = loss
        self.reconstruction = reconstruction
        self.learningRate = learningRate
        self.samplesPerSecond = samplesPerSecond
        self.seconds = seconds
    }

    /// The columns of `metrics.csv`, in order: the names of ``columns``.
    public static let csvHeader = columns.map(\.name)

    /// This epoch as one `metrics.csv` row (empty fields for absent terms).
    public var csvRow: [String] {
        Self.columns.map { column in
            column.value(self).map { column.isCount ? String(Int($0)) : String(format: "%.6g", $0) } ?? ""
        }
    }

    /// The quantities of the `--json` line's `train` (or `validation`) object: each column of that part with a
    /// value, under its key there.
    public func jsonValues(_ part: Column.Part) -> [String: Any] {
        var values: [String: Any] = [:]
        for column in Self.columns where column.part == part {
            guard let value = column.value(self) else { continue }
            values[column.key] = column.isCount ? Int(value) as Any : value as Any
        }
        return values
    }

    /// The terminal's epoch line after its `epoch E/N loss L rec R` opening: each column's words, in order.
    public var terminalTerms: String { Self.columns.compactMap { $0.terminal?(self) }.joined() }

    /// One quantity an epoch reports, read by `metrics.csv`, the `--json` line and the terminal alike.
    public struct Column: Sendable {
        /// Where the `--json` line puts it.
        public enum Part: Sendable {
            /// In the `train` object.
            case train
            /// In the `validation` object.
            case validation
            /// Nowhere (the epoch's counters).
            case none
        }
        /// The `metrics.csv` column.
        public let name: String
        /// Its key in the `--json` line's object.
        public let key: String
        public let part: Part
        /// Whether it counts (written without a fraction).
        public let isCount: Bool
        /// Its value, nil for a term the model does not have.
        public let value: @Sendable (EpochMetrics) -> Double?
        /// Its words on the terminal's epoch line (with a leading space), nil when the line leaves it out.
        public let terminal: (@Sendable (EpochMetrics) -> String?)?

        init(_ name: String, key: String? = nil, part: Part = .train, isCount: Bool = false,
             terminal: (@Sendable (EpochMetrics) -> String?)? = nil, _ value: @escaping @Sendable (EpochMetrics) -> Double?) {
            self.name = name
            self.key = key ?? name
            self.part = part
            self.isCount = isCount
            self.value = value
            self.terminal = terminal
        }
    }

    /// Every column, in `metrics.csv`'s order: the one place a metric is named.
    public static let columns: [Column] = [
        Column("epoch", part: .none, isCount: true) { Double($0.epoch) },
        Column("step", part: .none, isCount: true) { Double($0.step) },
        Column("loss") { $0.loss },
        Column("reconstruction") { $0.reconstruction },
        Column("kl", terminal: { m in m.kl.map { String(format: " kl %.4f β %.3g", $0, m.beta ?? 0) } }) { $0.kl },
        Column("beta") { $0.beta },
        Column("active_units", isCount: true, terminal: { m in m.activeUnits.map { " active \($0)" } }) { $0.activeUnits.map(Double.init) },
        Column("perplexity", terminal: { m in
            m.perplexity.map { String(format: " perplexity %.1f usage %.0f%%", $0, 100 * (m.codebookUsage ?? 0)) }
        }) { $0.perplexity },
        Column("codebook_usage") { $0.codebookUsage },
        Column("l0", terminal: { m in m.l0.map { String(format: " L0 %.2f dead %d", $0, m.deadUnits ?? 0) } }) { $0.l0 },
        Column("dead_units", isCount: true) { $0.deadUnits.map(Double.init) },
        Column("explained_variance", terminal: { m in m.explainedVariance.map { String(format: " explained %.3f", $0) } }) { $0.explainedVariance },
        Column("resampled_units", isCount: true) { $0.resampledUnits.map(Double.init) },
        Column("penalty", terminal: { m in m.penalty.map { String(format: " penalty %.4f", $0) } }) { $0.penalty },
        Column("val_loss", key: "loss", part: .validation, terminal: { m in m.validationLoss.map { String(format: " val %.4f", $0) } }) { $0.validationLoss },
        Column("val_reconstruction", key: "reconstruction", part: .validation) { $0.validationReconstruction },
        Column("val_kl", key: "kl", part: .validation) { $0.validationKL },
        Column("learning_rate") { $0.learningRate },
        Column("samples_per_second") { $0.samplesPerSecond },
        Column("seconds", part: .none) { $0.seconds },
    ]
}
