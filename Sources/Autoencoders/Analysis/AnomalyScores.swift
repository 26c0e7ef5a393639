import Foundation

/// Per-sample anomaly scores of a trained model.
public enum AnomalyScores {
    /// The score of every sample of `data`, in order: the reconstruction term (squared error or BCE summed over
    /// features) for deterministic models, and for VAEs the negative ELBO, reconstruction + KL(q(z|x) ‖ N(0, I)),
    /// averaged over `draws` reparameterized samples of z (draw d uses seed + d, so scores are reproducible).
    public static func scores(model: Autoencoder, data: Dataset, seed: UInt64, draws: Int = 8) throws -> [Double] {
        try scores(model: model, data: try model.rows(data), seed: seed, draws: draws)
    }

    /// The score of every row of `data`, resident or streamed from disk (a pass per draw), as
    /// ``scores(model:data:seed:draws:)-(_,Dataset,_,_)`` gives it for the same rows loaded whole.
    public static func scores(model: Autoencoder, data: any BatchedRows, seed: UInt64, draws: Int = 8) throws -> [Double] {
        let passes = model.latent.terms.contains(.kl) ? max(draws, 1) : 1
        var total = [Double](repeating: 0, count: data.count)
        for draw in 0..<passes {
            let result = try Evaluation.run(model: model, data: data, seed: seed &+ UInt64(draw))
            let kl = result.klPerSample ?? []
            for i in total.indices {
                total[i] += result.reconstructionPerSample[i] + (kl.isEmpty ? 0 : kl[i])
            }
        }
        return total.map { $0 / Double(passes) }
    }
}

extension Autoencoder {
    /// `data` resident on the model's device, in batches of the model's batch size.
    func rows(_ data: Dataset) throws -> DeviceDataset {
        try DeviceDataset(device: device, data: data, batchSize: batchSize)
    }
}
