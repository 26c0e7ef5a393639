import Foundation

/// The training defaults of anomaly detection, chosen by the shape of the samples; what ``AnomalyDetector`` fits
/// and `autoencoder train --detector` (or `--normal-label`) trains. Tables and images alike train until the held-out
/// normal rows stop improving (at most 300 epochs, stopped after 10 without a better validation loss): a fixed
/// short fit, tuned on one table of 225 rows, left larger tables far from converged. Measured with
/// `Benchmarks/anomaly_side_by_side.py` (README, "Anomaly detection"): over its six data sets, mean ROC-AUC 0.811 →
/// 0.899 trained on normal rows (vehicle 0.607 → 0.919, letter 0.777 → 0.888) and 0.722 → 0.746 on contaminated
/// rows, 3 seeds. What differs is the score: the standardized error plus the code's distance for tables, the
/// model's loss for images.
public struct DetectionRecipe: Equatable, Sendable {
    /// Models in the ensemble, seeds S … S + 4.
    public static let ensemble = 5

    /// Samples per step (at most the training rows: a table of 30 rows trains in one batch of its rows).
    public let batchSize: Int
    /// Epochs (a maximum when ``earlyStopping`` is set).
    public let epochs: Int
    /// Early-stopping patience in epochs (nil: the fixed epoch count).
    public let earlyStopping: Int?
    /// The score: the standardized error plus the code's distance for tables, the model's loss for images.
    public let score: AnomalyScoreKind

    /// The recipe for tables (`isTable`: samples of one dimension) or images.
    public init(isTable: Bool) {
        if isTable {
            (batchSize, epochs, earlyStopping, score) = (64, 300, 10, .standardizedAndCode)
        } else {
            (batchSize, epochs, earlyStopping, score) = (32, 300, 10, .loss)
        }
    }

    /// The MLP sized to an input of `dimension` features, for tables and anomaly detection: the code a quarter
    /// of the input (2…32 wide) and two hidden layers of 8 and 4 times the code (at most 256 and 128), so the
    /// network narrows from the input to the code (30 features: 64, 32, code 8; 784: 256, 128, code 32).
    public static func network(forInput dimension: Int) -> (hidden: [Int], latent: Int) {
        let latent = min(max(Int((Double(dimension) / 4).rounded()), 2), 32)
        return ([min(8 * latent, 256), min(4 * latent, 128)], latent)
    }
}
