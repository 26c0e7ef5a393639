/// The training defaults of anomaly detection (`train --normal-label`), one recipe for tables and one for
/// images, chosen by the shape of the samples. Measured with Benchmarks/anomaly_side_by_side.py (README,
/// "Anomaly detection"): on tables a short fit scores best — longer training fits the few normal rows closely
/// and ranks anomalies worse — while images need many more steps, stopped when the validation loss stops improving.
struct DetectionRecipe {
    /// Models in the ensemble, seeds S … S + 4.
    static let ensemble = 5

    let batchSize: Int
    let epochs: Int
    /// Early-stopping patience in epochs (nil: the fixed epoch count).
    let earlyStopping: Int?

    init(isTable: Bool) {
        if isTable {
            (batchSize, epochs, earlyStopping) = (64, 10, nil)
        } else {
            (batchSize, epochs, earlyStopping) = (32, 300, 10)
        }
    }
}
