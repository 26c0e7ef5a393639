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
        let b = batchSize, scale = 1 / Float(b)
        let encoderInput = prepareEncoderInput(x, context: context)
        let h = encoder.forward(encoderInput, context: context)
        let latent = latent(h, context: context)
        let logits = decoder.forward(latent.code, context: context)
        // reconstruction: per-sample sums, gradient of their batch mean
        device.reconstructionLoss(config.likelihood.loss, prediction: logits, target: x, rows: b, cols: inputDimension,
                                  perRow: reconstructionPerSample, gradient: work.dlogits.whole, gradientScale: scale)
        guard let dz = decoder.backward(work.dlogits.whole, context: context, needInputGradient: true) else { return }
        let dh = latentBackward(dz, h: h, latent: latent, context: context, kl: kl)
        _ = encoder.backward(dh, context: context, needInputGradient: false)
        accumulateEpochSums(kl: kl)
    }

    /// Forward pass of an evaluation batch: per-sample loss terms land in ``reconstructionPerSample``,
    /// ``klPerSample`` (VAEs, with a sampled z) and ``penaltyPerSample``. Inputs are clean (no corruption).
    public func evaluateBatch(_ x: BufferSlice, context: StepContext) {
        var evaluation = context
        evaluation.training = false
        let h = encoder.forward(encoderInputForEvaluation(x), context: evaluation)
        let logits = decoder.forward(latent(h, context: evaluation).code, context: evaluation)
        device.reconstructionLoss(config.likelihood.loss, prediction: logits, target: x, rows: batchSize,
                                  cols: inputDimension, perRow: reconstructionPerSample, gradient: nil,
                                  gradientScale: 0)
        if config.kind == .contractive { contractivePenalty(h: h, x: x, context: evaluation, gradientScale: nil) }
    }

    /// The code of each sample of `x`: μ for VAEs, the quantized vectors for VQ-VAE, h otherwise
    /// (batchSize × latentDim).
    public func encode(_ x: BufferSlice) -> BufferSlice {
        let context = StepContext(training: false)
        let h = encoder.forward(encoderInputForEvaluation(x), context: context)
        if let fcMu { return fcMu.forward(h, context: context) }
        return latent(h, context: context).code
    }

    /// The code indices of the last ``encode(_:)`` (VQ-VAE only): batchSize·latentDim/codeDim int32 values.
    public var lastCodes: BufferSlice { work.codes.whole }

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

    // MARK: Encoder input

    private func prepareEncoderInput(_ x: BufferSlice, context: StepContext) -> BufferSlice {
        switch config.kind {
        case .denoising:
            let corrupted = work.input.slice(0, x.count)
            device.corrupt(x, into: corrupted, corruption: config.corruption.corruption,
                           random: context.randomStream(purpose: corruptionPurpose))
            return corrupted
        case .contractive where !config.contractiveIsExact:
            // [x; x + σε] as one batch of 2B
            let stacked = work.input.whole
            let perturbed = stacked.slice(x.count, x.count)
            device.copy(x, to: stacked.slice(0, x.count))
            device.fillNormal(perturbed, mean: 0, std: Float(config.contractiveNoise),
                              random: context.randomStream(purpose: corruptionPurpose))
            device.axpby(alpha: 1, x, beta: 1, perturbed)
            return stacked
        default:
            return x
        }
    }

    private func encoderInputForEvaluation(_ x: BufferSlice) -> BufferSlice {
        guard config.kind == .contractive && !config.contractiveIsExact else { return x }
        let stacked = work.input.whole
        device.copy(x, to: stacked.slice(0, x.count))
        device.copy(x, to: stacked.slice(x.count, x.count))
        return stacked
    }

    // MARK: Latent forward

    /// What the latent forward pass hands to the backward pass.
    struct LatentOutput {
        /// The decoder input (batchSize × latentDim).
        var code: BufferSlice
        /// The VAE heads' outputs μ and log σ² (batchSize × latentDim each), still in the heads' output buffers;
        /// nil for other kinds.
        var gaussian: (mu: BufferSlice, logvar: BufferSlice)?

        init(_ code: BufferSlice, gaussian: (mu: BufferSlice, logvar: BufferSlice)? = nil) {
            self.code = code
            self.gaussian = gaussian
        }
    }

    /// From the encoder output to the decoder input, recording the latent loss terms.
    private func latent(_ h: BufferSlice, context: StepContext) -> LatentOutput {
        let b = batchSize, l = latentDim
        switch config.kind {
        case .vae, .betaVAE:
            guard let fcMu, let fcLogvar else { preconditionFailure("VAE heads missing") }
            let mu = fcMu.forward(h, context: context), logvar = fcLogvar.forward(h, context: context)
            // a training step also adds the batch's KL per dimension to the epoch's sums
            device.gaussianLatent(mu: mu, logvar: logvar, batch: b, dim: l, eps: work.eps.whole, into: work.z.whole,
                                  random: context.randomStream(purpose: latentPurpose), klPerSample: klPerSample,
                                  klPerDimension: work.klDimension.whole,
                                  klDimensionSums: context.training ? klDimensionSums.whole : nil)
            return LatentOutput(work.z.whole, gaussian: (mu, logvar))
        case .vqVAE:
            return LatentOutput(quantize(h))
        case .sparse:
            if case .topK(let k) = config.sparsity {
                device.topK(h, into: work.z.whole, rows: b, cols: l, k: k)
                return LatentOutput(work.z.whole)
            }
            return LatentOutput(h)
        case .contractive where !config.contractiveIsExact:
            return LatentOutput(h.slice(0, b * l))
        default:
            return LatentOutput(h)
        }
    }

    /// Nearest code vectors of z_e; writes z_q into the latent workspace and the penalty per sample.
    private func quantize(_ ze: BufferSlice) -> BufferSlice {
        guard let codebookID else { preconditionFailure("codebook missing") }
        let d = config.vq.codeDim, vectors = batchSize * latentDim / d
        let codebook = store.value(codebookID)
        device.nearestCode(ze, codebook: codebook, n: vectors, k: config.vq.codebookSize, d: d,
                           codes: work.codes.whole, distances: nil)
        device.gatherRows(codebook, indices: work.codes.whole, cols: d, into: work.z.whole)
        // diff = z_e − z_q; penalty per sample = (1 + β)·‖diff‖² (β·‖diff‖² with EMA updates)
        device.copy(ze, to: work.scratch2.whole)
        device.axpby(alpha: -1, work.z.whole, beta: 1, work.scratch2.whole)
        let weight = Float(config.vq.commitment) + (config.vq.ema ? 0 : 1)
        device.reduce(work.scratch2.whole, rows: batchSize, cols: latentDim, axis: .columns, op: .sumOfSquares,
                      scale: weight, into: penaltyPerSample, accumulate: false)
        return work.z.whole
    }

    // MARK: Latent backward

    /// From ∂L/∂(decoder input) to ∂L/∂(encoder output), adding the latent loss terms and their gradients.
    /// `latent` is what ``latent(_:context:)`` returned for `h` in this step.
    private func latentBackward(_ dz: BufferSlice, h: BufferSlice, latent: LatentOutput, context: StepContext,
                                kl: KLTerm) -> BufferSlice {
        let b = batchSize, l = latentDim, scale = 1 / Float(b)
        switch config.kind {
        case .vae, .betaVAE:
            guard let fcMu, let fcLogvar, let (mu, logvar) = latent.gaussian else { preconditionFailure("VAE heads missing") }
            var mask: BufferSlice?
            if let freeBits = config.freeBits, freeBits > 0 {
                device.thresholdMask(work.klDimension.whole, threshold: Float(freeBits), into: work.mask.whole)
                mask = work.mask.whole
            }
            if let capacity = kl.capacity {
                // γ·|KL − C| with the sign of KL − C kept on the device (nothing read back): its gradient is
                // formed for +γ/B, then scaled by the sign
                let sign = capacityTerm(target: capacity.target, gamma: capacity.gamma)
                device.reparameterizeBackward(dz, logvar: logvar, eps: work.eps.whole, dmu: work.dmu.whole,
                                              dlogvar: work.dlogvar.whole, accumulate: false)
                let dmuKL = work.scratch.slice(0, b * l), dlogvarKL = work.scratch2.whole
                device.fill(dmuKL, with: 0)
                device.fill(dlogvarKL, with: 0)
                device.klBackward(mu: mu, logvar: logvar, batch: b, dim: l, weight: Float(capacity.gamma) * scale,
                                  dimensionMask: mask, dmu: dmuKL, dlogvar: dlogvarKL)
                device.scaleRows(dmuKL, by: sign, rows: 1, cols: b * l, divide: false, into: work.dmu.whole,
                                 accumulate: true)
                device.scaleRows(dlogvarKL, by: sign, rows: 1, cols: b * l, divide: false, into: work.dlogvar.whole,
                                 accumulate: true)
            } else {
                device.gaussianLatentBackward(dz, mu: mu, logvar: logvar, eps: work.eps.whole, batch: b, dim: l,
                                              klWeight: Float(kl.weight) * scale, dimensionMask: mask,
                                              dmu: work.dmu.whole, dlogvar: work.dlogvar.whole)
            }
            guard let dh = fcMu.backward(work.dmu.whole, context: context, needInputGradient: true)
            else { preconditionFailure("fc_mu returned no input gradient") }
            // dh = (dh + dlogvar·W_logvar), times the encoder's last act′ when fc_logvar takes it
            return fcLogvar.backward(work.dlogvar.whole, context: context, addingInputGradientTo: dh)
        case .vqVAE:
            return vqBackward(dz, ze: h)
        case .sparse:
            countActivity(h: dzSourceCode(h))
            switch config.sparsity {
            case .l1(let lambda):
                device.copy(dz, to: work.dz.slice(0, b * l))
                device.l1Penalty(h, rows: b, cols: l, lambda: Float(lambda), perRow: penaltyPerSample,
                                 gradient: work.dz.slice(0, b * l), gradientScale: scale)
                return work.dz.slice(0, b * l)
            case .topK:
                device.maskedGradient(dz, mask: work.z.whole, into: work.dz.slice(0, b * l))
                return work.dz.slice(0, b * l)
            }
        case .contractive:
            return contractivePenalty(h: h, x: nil, context: context, gradientScale: scale, dz: dz)
        default:
            return dz
        }
    }

    /// The capacity objective on the device: with k̄ = Σ KL / B of the batch, adds B·γ·|k̄ − C| to the epoch's
    /// objective and returns the one-element view of sign(k̄ − C) (+1 where k̄ = C), which weighs the KL gradient.
    /// Workspace `capacity` holds [k̄, |k̄ − C|, sign].
    private func capacityTerm(target: Double, gamma: Double) -> BufferSlice {
        let b = batchSize
        let meanKL = work.capacity.slice(0, 1), excess = work.capacity.slice(1, 1), sign = work.capacity.slice(2, 1)
        device.reduce(klPerSample, rows: 1, cols: b, axis: .all, op: .sum, scale: 1 / Float(b), into: meanKL,
                      accumulate: false)
        device.thresholdMask(meanKL, threshold: Float(target), into: sign)   // 1 where k̄ ≥ C, else 0
        device.affine(sign, scale: 2, shift: -1, into: sign)                  // ±1
        device.affine(meanKL, scale: 1, shift: -Float(target), into: excess)  // k̄ − C
        device.multiply(excess, sign, into: excess)                           // |k̄ − C|
        device.axpby(alpha: Float(Double(b) * gamma), excess, beta: 1, sums.slice(EpochSums.objective, 1))
        return sign
    }

    /// The code whose activity a sparse model reports: the top-k output or the ReLU code.
    private func dzSourceCode(_ h: BufferSlice) -> BufferSlice {
        if case .topK = config.sparsity { return work.z.whole }
        return h
    }

    /// Adds the number of non-zero code entries to the epoch sums and per-unit activity counts.
    private func countActivity(h: BufferSlice) {
        let b = batchSize, l = latentDim
        device.maskedGradient(work.ones.whole, mask: h, into: work.scratch2.whole)
        device.reduce(work.scratch2.whole, rows: b, cols: l, axis: .rows, op: .sum, scale: 1,
                      into: unitActivity.whole, accumulate: true)
        device.reduce(work.scratch2.whole, rows: 1, cols: b * l, axis: .all, op: .sum, scale: 1,
                      into: sums.slice(EpochSums.nonzero, 1), accumulate: true)
    }

    private func vqBackward(_ dz: BufferSlice, ze: BufferSlice) -> BufferSlice {
        guard let codebookID else { preconditionFailure("codebook missing") }
        let b = batchSize, scale = 1 / Float(b)
        let k = config.vq.codebookSize, d = config.vq.codeDim, vectors = b * latentDim / d
        // usage counts and, for the loss form, Σ over each code's vectors of (z_e − z_q)
        device.scatterAddRows(work.scratch2.whole, indices: work.codes.whole, n: vectors, cols: d,
                              into: work.codebookScratch.whole, rows: k, counts: work.counts.whole, accumulate: false)
        device.axpby(alpha: 1, work.counts.whole, beta: 1, codeCounts.slice(0, k))
        if config.vq.ema {
            updateCodebookByEMA(ze: ze, vectors: vectors)
        } else {
            // ∂/∂e_k Σ ‖z_e − e‖² = −2 Σ (z_e − e_k)
            device.axpby(alpha: -2 * scale, work.codebookScratch.whole, beta: 1, store.gradient(codebookID))
        }
        // straight-through: ∂L/∂z_e = ∂L/∂z_q + 2β(z_e − z_q)/B
        let dze = work.dz.slice(0, b * latentDim)
        device.copy(dz, to: dze)
        device.axpby(alpha: 2 * Float(config.vq.commitment) * scale, work.scratch2.whole, beta: 1, dze)
        return dze
    }

    /// EMA codebook (van den Oord et al. 2017, appendix): N ← γN + (1−γ)n, m ← γm + (1−γ)Σz_e,
    /// e = m / Ñ with Laplace-smoothed Ñ = (N + ε)·T/(T + Kε), T = ΣN.
    private func updateCodebookByEMA(ze: BufferSlice, vectors: Int) {
        guard let codebookID, let clusterSizeID, let embedAverageID else { return }
        let k = config.vq.codebookSize, d = config.vq.codeDim
        let decay = Float(config.vq.decay), epsilon = Float(config.vq.epsilon)
        let clusterSize = store.state(clusterSizeID), embedAverage = store.state(embedAverageID)
        device.scatterAddRows(ze, indices: work.codes.whole, n: vectors, cols: d, into: work.codebookScratch.whole,
                              rows: k, counts: nil, accumulate: false)
        device.axpby(alpha: 1 - decay, work.counts.whole, beta: decay, clusterSize)
        device.axpby(alpha: 1 - decay, work.codebookScratch.whole, beta: decay, embedAverage)
        emaTotal = Double(decay) * emaTotal + Double(1 - decay) * Double(vectors)
        let factor = Float(emaTotal / (emaTotal + Double(k) * Double(epsilon)))
        device.affine(clusterSize, scale: factor, shift: epsilon * factor, into: work.counts.whole)
        device.scaleRows(embedAverage, by: work.counts.whole, rows: k, cols: d, divide: true,
                         into: store.value(codebookID), accumulate: false)
    }

    /// The contractive penalty per sample into ``penaltyPerSample``; with a gradient scale, also returns
    /// ∂L/∂h for the encoder (dz plus the penalty's gradient) and adds the penalty's direct weight gradient.
    @discardableResult
    private func contractivePenalty(h: BufferSlice, x: BufferSlice?, context: StepContext, gradientScale: Float?,
                                    dz: BufferSlice? = nil) -> BufferSlice {
        let b = batchSize, l = latentDim, n = inputDimension
        let lambda = Float(config.contractiveWeight)
        if config.contractiveIsExact {
            guard let weight = try? store.value(named: "encoder.0.weight"),
                  let dweight = try? store.gradient(named: "encoder.0.weight") else { preconditionFailure("encoder weight") }
            // s_j = Σ_i W_ji²
            device.reduce(weight, rows: l, cols: n, axis: .columns, op: .sumOfSquares, scale: 1,
                          into: work.columnScale.whole, accumulate: false)
            // a = h(1 − h), a² and the penalty λ·Σ_j a_j² s_j
            let a = work.scratch.slice(0, b * l), a2 = work.scratch2.whole
            device.activationBackward(work.ones.whole, input: h, output: h, into: a, activation: .sigmoid, accumulate: false)
            device.multiply(a, a, into: a2)
            device.gemm(a2, transposeA: false, work.columnScale.whole, transposeB: false, into: penaltyPerSample,
                        m: b, n: 1, k: l, alpha: lambda, beta: 0, bias: nil, activation: .identity)
            guard let gradientScale, let dz else { return h }
            // direct term: ∂/∂W_ji = 2λ·(Σ_b a_bj²)·W_ji / B
            device.reduce(a2, rows: b, cols: l, axis: .rows, op: .sum, scale: 2 * lambda * gradientScale,
                          into: work.klDimension.whole, accumulate: false)
            device.scaleRows(weight, by: work.klDimension.whole, rows: l, cols: n, divide: false, into: dweight,
                             accumulate: true)
            // through h: ∂/∂h_j = 2λ·s_j·a_j·(1 − 2h_j) / B, added to dz (the fused sigmoid multiplies by a_j)
            let dh = work.dz.slice(0, b * l)
            device.affine(h, scale: -2, shift: 1, into: a2)
            device.multiply(a2, a, into: a2)
            device.gemm(work.ones.slice(0, b), transposeA: false, work.columnScale.whole, transposeB: false,
                        into: a, m: b, n: l, k: 1)
            device.multiply(a2, a, into: a2)
            device.copy(dz, to: dh)
            device.axpby(alpha: 2 * lambda * gradientScale, a2, beta: 1, dh)
            return dh
        }
        // stochastic: h = [h(x); h(x + σε)], penalty λ‖Δ‖²/σ²
        let sigma2 = Float(config.contractiveNoise * config.contractiveNoise)
        let clean = h.slice(0, b * l), perturbed = h.slice(b * l, b * l)
        let delta = work.scratch2.whole
        device.copy(perturbed, to: delta)
        device.axpby(alpha: -1, clean, beta: 1, delta)
        device.reduce(delta, rows: b, cols: l, axis: .columns, op: .sumOfSquares, scale: lambda / sigma2,
                      into: penaltyPerSample, accumulate: false)
        guard let gradientScale, let dz else { return h }
        let dh = work.dz.whole
        let g = 2 * lambda / sigma2 * gradientScale
        device.copy(dz, to: dh.slice(0, b * l))
        device.axpby(alpha: -g, delta, beta: 1, dh.slice(0, b * l))
        device.axpby(alpha: g, delta, beta: 0, dh.slice(b * l, b * l))
        return dh
    }

    // MARK: Epoch sums

    /// Adds the step's per-sample terms to their epoch sums and the objective (reconstruction + β·KL + penalty;
    /// a capacity schedule adds its own term to the objective in ``capacityTerm(target:gamma:)``): one reduction.
    private func accumulateEpochSums(kl: KLTerm) {
        let klWeight = config.kind.isVariational && kl.capacity == nil ? Float(kl.weight) : 0
        device.accumulateRowSums(termsPerSample.whole, rows: EpochSums.terms, cols: batchSize, weights: [1, klWeight, 1],
                                 into: sums.slice(EpochSums.reconstruction, EpochSums.terms),
                                 total: sums.slice(EpochSums.objective, 1))
    }
}
