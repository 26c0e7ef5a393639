import Compute
import Layers

/// The auxiliary loss of a top-k sparse autoencoder (AuxK, Gao et al. 2024, appendix B.1), run inside
/// ``SparseCode``'s backward pass so that a step still reads nothing back.
///
/// A count per latent of the training samples since it last fired (``samplesSinceFired``) marks the dead latents:
/// those at or above ``AuxKOptions/deadAfter(latentDim:k:)``. Among each sample's pre-activations h of dead latents
/// (before any ReLU, so that a latent whose pre-activation is negative on every sample still gets gradient) the
/// k_aux largest form z_aux, whose reconstruction ê = z_aux·W_dᵀ (no bias) is fitted to the main code's
/// residual e = x − x̂, held fixed: the step's loss gains α·mean‖ê − e‖², with α = ``AuxKOptions/coefficient``.
/// Its gradients go to W_d and, through the returned ∂L/∂h, to the encoder. Without dead latents z_aux is zero and
/// so is everything the term adds.
///
/// The residual comes from the reconstruction's gradient g = (2/b)(x̂ − x), so ∂/∂ê = (2α/b)(ê − e) = (2α/b)ê + α·g.
/// Where the decoder reads the code's rows sparsely (``Linear/useSparseRows(input:outputGradient:)``, on a device
/// with ``SparseRowPrimitives``) the three products through z_aux touch its k entries per row only, through the
/// W_dᵀ the decoder's forward pass transposed in the same step; elsewhere they are GEMMs on its dense form.
/// The per-sample penalty it reports is α(‖ê − e‖² − ‖e‖²): what the dead latents take off the residual (negative
/// when they explain part of it), zero while none is dead. Under data-parallel training each rank counts the
/// samples of its own shard.
///
/// An epoch in which no latent can reach the dead count (the largest count at its start plus the epoch's samples
/// stays below it) skips the term's products and only counts: exactly what they would have computed, since the
/// auxiliary code is then empty. The first epoch runs them.
final class AuxiliaryCode {
    let options: AuxKOptions
    let setting: LatentSetting
    /// Training samples since each latent last fired [l]: part of a checkpoint.
    let samplesSinceFired: Buffer
    private let decoderWeight: BufferSlice, decoderGradient: BufferSlice
    private let outputGradient: BufferSlice
    private let reconstructionPerSample: BufferSlice
    /// Entries of the auxiliary code per sample, k_aux.
    let k: Int
    /// Training samples without firing that make a latent dead.
    private let deadAfter: Int
    /// Whether a latent may be dead in this epoch (decided by ``endEpoch(samplesPerEpoch:)``).
    private var active = true
    private let scratch: Buffer     // [l]
    private let dead: Buffer        // [l] 1 for a dead latent
    private let rowOnes: Buffer     // [b]
    private let deadRows: Buffer    // [b, l] rows of `dead`, then z_aux
    private let candidates: Buffer  // [b, l] the selection's inputs and output, then ∂L/∂z_aux
    private let residualGradient: Buffer  // [b, n] ∂L/∂ê
    /// On a device with ``SparseRowPrimitives``: the products through z_aux's k entries per row.
    private let gathered: Gathered?
    /// The decoder, whose sparse-input forward pass leaves W_dᵀ for the gathered products.
    private let decoder: Linear

    /// The compacted z_aux and the tables its products read and write.
    private struct Gathered {
        let primitives: any SparseRowPrimitives
        let indices: Buffer        // [b, k] int32
        let values: Buffer         // [b, k]
        let dots: Buffer           // [b, k] ∂L/∂z_aux at its entries
        let gradientRows: Buffer   // [l, n] ∂L/∂W_dᵀ of the term
    }

    /// The term for a code of `codeK` entries per sample, on the decoder weight `decoderWeight`.
    init(options: AuxKOptions, codeK: Int, setting: LatentSetting, decoder: Linear, decoderWeight: ParameterID,
         outputGradient: BufferSlice, reconstructionPerSample: BufferSlice) throws {
        let b = setting.batch, l = setting.latentDim, n = setting.inputDimension
        self.options = options
        self.setting = setting
        self.decoderWeight = setting.store.value(decoderWeight)
        decoderGradient = setting.store.gradient(decoderWeight)
        self.outputGradient = outputGradient
        self.reconstructionPerSample = reconstructionPerSample
        k = min(options.k ?? max(n / 2, 1), l)
        deadAfter = options.deadAfter(latentDim: l, k: codeK)
        samplesSinceFired = try setting.floats(l)
        scratch = try setting.floats(l)
        dead = try setting.floats(l)
        rowOnes = try setting.floats(b)
        setting.device.fill(rowOnes.whole, with: 1)
        deadRows = try setting.floats(b * l)
        candidates = try setting.floats(b * l)
        residualGradient = try setting.floats(b * n)
        self.decoder = decoder
        if let primitives = setting.device as? any SparseRowPrimitives {
            gathered = Gathered(primitives: primitives, indices: try setting.device.makeBuffer(count: b * k, dtype: .int32),
                                values: try setting.floats(b * k), dots: try setting.floats(b * k),
                                gradientRows: try setting.floats(l * n))
        } else {
            gathered = nil
        }
    }

    /// Counts the batch's samples into ``samplesSinceFired`` (restarting the latents that fired in it, as
    /// `batchActivity` says), then adds the auxiliary term's gradient to `dh` and α·‖ê − e‖² to the per-sample
    /// penalty. `h` is the encoder output of the step.
    func backward(h: BufferSlice, batchActivity: BufferSlice, context: StepContext, into dh: BufferSlice) {
        let device = setting.device
        let b = setting.batch, l = setting.latentDim, n = setting.inputDimension
        let since = samplesSinceFired.whole
        device.affine(since, scale: 1, shift: Float(b), into: since)
        device.maskedGradient(since, mask: batchActivity, into: scratch.whole)
        device.axpby(alpha: -1, scratch.whole, beta: 1, since)
        guard active else {
            device.fill(setting.penaltyPerSample, with: 0)
            return
        }
        device.thresholdMask(since, threshold: Float(deadAfter), into: dead.whole)

        // z_aux: the k largest pre-activations of dead latents in each row; live latents enter the selection at
        // −10³⁰ and leave it as 0, so a row with fewer than k dead latents keeps only those
        device.gemm(rowOnes.whole, dead.whole, into: deadRows.whole, m: b, n: l, k: 1)
        device.multiply(h, deadRows.whole, into: candidates.whole)
        device.affine(deadRows.whole, scale: 1e30, shift: -1e30, into: deadRows.whole)
        device.axpby(alpha: 1, deadRows.whole, beta: 1, candidates.whole)
        device.topK(candidates.whole, into: candidates.whole, rows: b, cols: l, k: k)
        device.thresholdMask(deadRows.whole, threshold: -1, into: deadRows.whole)
        device.multiply(candidates.whole, deadRows.whole, into: deadRows.whole)
        let zAux = deadRows.whole
        let alpha = Float(options.coefficient), scale = context.batchMeanScale(rows: b)
        // W_dᵀ of this step's forward pass, when the decoder read the code sparsely
        let decoderRows = decoder.transposedWeight
        if let g = gathered, let decoderRows {
            // the products through z_aux's k entries per row and W_dᵀ's rows (k/l of the dense work)
            let sparse = g.primitives
            sparse.compactRows(zAux, rows: b, cols: l, capacity: k, indices: g.indices.whole, values: g.values.whole)
            sparse.gatheredRowsProduct(indices: g.indices.whole, values: g.values.whole, rows: b, capacity: k,
                                       table: decoderRows, width: n, into: residualGradient.whole,
                                       alpha: 2 * alpha * scale, beta: 0)
        } else {
            // ∂L/∂ê = (2α/b)·z_aux·W_dᵀ + α·g
            device.gemm(zAux, transposeA: false, decoderWeight, transposeB: true, into: residualGradient.whole,
                        m: b, n: n, k: l, alpha: 2 * alpha * scale, beta: 0, bias: nil, activation: .identity)
        }
        device.axpby(alpha: alpha, outputGradient, beta: 1, residualGradient.whole)
        // the penalty per sample: α‖ê − e‖² = ‖∂L/∂ê‖²/(α·(2·scale)²), less α‖e‖² (the reconstruction term)
        device.reduce(residualGradient.whole, rows: b, cols: n, axis: .columns, op: .sumOfSquares,
                      scale: 1 / (alpha * 4 * scale * scale), into: setting.penaltyPerSample, accumulate: false)
        device.axpby(alpha: -alpha, reconstructionPerSample, beta: 1, setting.penaltyPerSample)
        // ∂L/∂W_d += (∂L/∂ê)ᵀ·z_aux; ∂L/∂h += (∂L/∂ê·W_d) where z_aux ≠ 0
        if let g = gathered, let decoderRows {
            let sparse = g.primitives
            device.fill(g.gradientRows.whole, with: 0)
            sparse.scatteredRowsProduct(indices: g.indices.whole, values: g.values.whole, rows: b, capacity: k,
                                        x: residualGradient.whole, width: n, into: g.gradientRows.whole, tableRows: l,
                                        bias: nil)
            sparse.transpose(g.gradientRows.whole, rows: l, cols: n, into: decoderGradient, accumulate: true)
            sparse.gatheredRowsDots(residualGradient.whole, indices: g.indices.whole, values: g.values.whole, rows: b,
                                    capacity: k, table: decoderRows, width: n, into: g.dots.whole)
            sparse.expandRows(indices: g.indices.whole, values: g.dots.whole, rows: b, capacity: k, cols: l, into: dh,
                              accumulate: true)
        } else {
            device.gemm(residualGradient.whole, transposeA: true, zAux, transposeB: false, into: decoderGradient,
                        m: n, n: l, k: b, alpha: 1, beta: 1, bias: nil, activation: .identity)
            device.gemm(residualGradient.whole, decoderWeight, into: candidates.whole, m: b, n: l, k: n)
            device.maskedGradient(candidates.whole, mask: zAux, into: candidates.whole)
            device.axpby(alpha: 1, candidates.whole, beta: 1, dh)
        }
    }

    /// Decides whether the next epoch of `samplesPerEpoch` training samples runs the term's products: only when
    /// a latent's count could reach the dead count in it (one read of ``samplesSinceFired``).
    func endEpoch(samplesPerEpoch: Int) {
        let largest = setting.device.read(samplesSinceFired.whole).max() ?? 0
        active = Double(largest) + Double(samplesPerEpoch) >= Double(deadAfter)
    }
}
