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

    /// The columns of `metrics.csv`, in order.
    public static let csvHeader = [
        "epoch", "step", "loss", "reconstruction", "kl", "beta", "active_units", "perplexity", "codebook_usage",
        "l0", "dead_units", "explained_variance", "resampled_units", "penalty", "val_loss", "val_reconstruction", "val_kl", "learning_rate",
        "samples_per_second", "seconds",
    ]

    /// This epoch as one `metrics.csv` row (empty fields for absent terms).
    public var csvRow: [String] {
        func f(_ v: Double?) -> String { v.map { String(format: "%.6g", $0) } ?? "" }
        func i(_ v: Int?) -> String { v.map(String.init) ?? "" }
        return [String(epoch), String(step), f(loss), f(reconstruction), f(kl), f(beta), i(activeUnits), f(perplexity),
                f(codebookUsage), f(l0), i(deadUnits), f(explainedVariance), i(resampledUnits), f(penalty), f(validationLoss), f(validationReconstruction),
                f(validationKL), f(learningRate), f(samplesPerSecond), f(seconds)]
    }
}
