import Compute
import Foundation
import Layers

extension Autoencoder {
    /// The KL weight of one step: β·KL normally, γ·|KL − C| under a capacity schedule.
    public struct KLTerm: Sendable {
        /// β (or the annealed β) on the KL term.
        public var weight: Double
        /// C (nats) of capacity-controlled training and its γ; nil for the plain β·KL term.
        public var capacity: (target: Double, gamma: Double)?

        public init(weight: Double, capacity: (target: Double, gamma: Double)? = nil) {
            self.weight = weight
            self.capacity = capacity
        }
    }

    /// One training step on a full batch `x` (batchSize × inputDimension): forward, loss terms, backward.
    /// Gradients are ADDED to ``store``'s gradient buffer; the batch's terms are added to the epoch sums.
    public func trainStep(_ x: BufferSlice, context: StepContext, kl: KLTerm) {
        let b = batchSize, scale = context.batchMeanScale(rows: b)
        let h = encoder.forward(latent.encoderInput(x, context: context), context: context)
        let logits = decoder.forward(latent.forward(h, context: context), context: context)
        // reconstruction: per-sample sums, gradient of their batch mean
        device.reconstructionLoss(config.likelihood.loss, prediction: logits, target: x, rows: b, cols: inputDimension,
                                  perRow: reconstructionPerSample, gradient: outputGradient.whole, gradientScale: scale)
        guard let dz = decoder.backward(outputGradient.whole, context: context, needInputGradient: true) else { return }
        let dh = latent.backward(dz, h: h, context: context, kl: kl)
        _ = encoder.backward(dh, context: context, needInputGradient: false)
        accumulateEpochSums(kl: kl)
    }

    /// Forward pass of an evaluation batch: per-sample loss terms land in ``reconstructionPerSample``,
    /// ``klPerSample`` (VAEs, with a sampled z) and ``penaltyPerSample``. Inputs are clean (no corruption).
    public func evaluateBatch(_ x: BufferSlice, context: StepContext) {
        var evaluation = context
        evaluation.training = false
        let h = encoder.forward(latent.encoderInput(x, context: evaluation), context: evaluation)
        let logits = decoder.forward(latent.forward(h, context: evaluation), context: evaluation)
        device.reconstructionLoss(config.likelihood.loss, prediction: logits, target: x, rows: batchSize,
                                  cols: inputDimension, perRow: reconstructionPerSample, gradient: nil,
                                  gradientScale: 0)
    }

    /// The code of each sample of `x`: μ for VAEs, the quantized vectors for VQ-VAE, h otherwise
    /// (batchSize × latentDim).
    public func encode(_ x: BufferSlice) -> BufferSlice {
        let context = StepContext(training: false)
        return latent.code(encoder.forward(latent.encoderInput(x, context: context), context: context))
    }

    /// Decodes a batch of codes (batchSize × latentDim) to outputs: probabilities for Bernoulli data, values for
    /// Gaussian data.
    public func decode(_ z: BufferSlice) -> BufferSlice {
        let logits = decoder.forward(z, context: StepContext(training: false))
        if config.likelihood == .bernoulli {
            device.activate(logits, into: output.whole, activation: .sigmoid)
        } else {
            device.copy(logits, to: output.whole)
        }
        return output.whole
    }

    /// Reconstructs a batch (encode, then decode; VAEs decode μ).
    public func reconstruct(_ x: BufferSlice) -> BufferSlice { decode(encode(x)) }

    // MARK: Epoch sums

    /// Adds the step's per-sample terms to their epoch sums and the objective (reconstruction + β·KL + penalty;
    /// a capacity schedule adds its own term to the objective): one reduction.
    private func accumulateEpochSums(kl: KLTerm) {
        device.accumulateRowSums(termsPerSample.whole, rows: EpochSums.terms, cols: batchSize,
                                 weights: [1, latent.objectiveKLWeight(kl), 1],
                                 into: sums.slice(EpochSums.reconstruction, EpochSums.terms),
                                 total: sums.slice(EpochSums.objective, 1))
    }
}
