import Compute
import Foundation
import Layers

extension Autoencoder {
    /// log w = log p(x|z) + log p(z) − log q(z|x) for one draw z ~ q(z|x) per sample of the batch, where
    /// log p(z) − log q(z|x) = Σ_j (−½z_j² + ½ε_j² + ½ log σ_j²) (the 2π terms cancel). For Bernoulli data
    /// log p(x|z) is minus the BCE; for Gaussian data −½‖x − x̂‖² − (D/2)·log 2π. VAEs only.
    func logImportanceWeights(_ x: BufferSlice, draw: Int, seed: UInt64) -> [Double] {
        guard let gaussian = latent as? GaussianLatent else { preconditionFailure("importance weights need a VAE") }
        let b = batchSize
        let context = StepContext(training: false, seed: seed, step: draw)
        let (z, logRatio) = gaussian.importanceDraw(encoder.forward(x, context: context), context: context)
        let logits = decoder.forward(z, context: context)
        device.reconstructionLoss(config.likelihood.loss, prediction: logits, target: x, rows: b, cols: inputDimension,
                                  perRow: reconstructionPerSample, gradient: nil, gradientScale: 0)
        let prior = device.read(logRatio), reconstruction = device.read(reconstructionPerSample)
        let gaussianData = config.likelihood == .gaussian
        let constant = gaussianData ? -0.5 * Double(inputDimension) * log(2 * Double.pi) : 0
        return (0..<b).map { i in
            let logLikelihood = gaussianData ? -0.5 * Double(reconstruction[i]) + constant : -Double(reconstruction[i])
            return logLikelihood + Double(prior[i])
        }
    }
}

extension Evaluation {
    /// The importance-weighted estimate of the mean log-likelihood (Burda et al. 2016),
    /// mean over samples of log (1/k) Σ_s w_s, with k draws per sample. A lower bound on log p(x) that tightens
    /// as k grows (k = 1 is the ELBO). VAEs only.
    public static func importanceWeightedLogLikelihood(model: Autoencoder, data: Dataset, samples k: Int,
                                                       seed: UInt64) throws -> Double {
        let rows = try DeviceDataset(device: model.device, data: data, batchSize: model.batchSize)
        return try importanceWeightedLogLikelihood(model: model, data: rows, samples: k, seed: seed)
    }

    /// The importance-weighted estimate over every row of `data`, resident or streamed from disk, as
    /// ``importanceWeightedLogLikelihood(model:data:samples:seed:)-(_,Dataset,_,_)`` (the same value for the same
    /// rows): the k draws of a batch are taken while it is on the device, so the rows are read once.
    public static func importanceWeightedLogLikelihood(model: Autoencoder, data rows: any BatchedRows, samples k: Int,
                                                       seed: UInt64) throws -> Double {
        guard model.latent is GaussianLatent else {
            throw ConfigError.invalid("the importance-weighted likelihood needs a VAE (--model vae or beta-vae)")
        }
        guard k > 0 else { throw ConfigError.invalid("--iw-samples must be positive") }
        var total = 0.0
        var batches = rows.inOrder()
        while let batch = batches.next() {
            var weights = [[Double]](repeating: [], count: batch.valid)
            for draw in 0..<k {
                let w = model.logImportanceWeights(batch.x, draw: draw, seed: seed)
                for i in 0..<batch.valid { weights[i].append(w[i]) }
            }
            for w in weights {
                let top = w.max() ?? 0
                total += top + log(w.map { exp($0 - top) }.reduce(0, +) / Double(k))
            }
        }
        try batches.check()
        try model.device.checkHealth()
        return total / Double(max(rows.count, 1))
    }
}
