import Compute
import Foundation
import Layers

/// The ``SAEOptions`` maintenance of a one-layer sparse autoencoder on activations, run by the ``Trainer``: the
/// tied start, the decoder gradient's projection before every optimizer step, unit-norm decoder columns after it,
/// and (as an option) dead-latent resampling after every epoch.
///
/// Decoder W_d is the decoder's one Linear (`decoder.0.weight`), n × l row-major (PyTorch's [out, in]), so latent
/// j's dictionary vector is column j. The encoder is the sparse code's projection (`encoder.0.weight`, l × n, and
/// `encoder.0.bias`, l).
final class SparseDictionary {
    let device: any Device
    let options: SAEOptions
    let n: Int, l: Int
    let code: SparseCode
    let decoderWeight: BufferSlice
    let decoderGradient: BufferSlice
    let decoderBias: BufferSlice
    let encoderWeight: BufferSlice
    let encoderBias: BufferSlice
    /// Where the store's values start in their buffer: parameter slices' offsets less this index the optimizer state.
    let valueBase: Int
    let squares: Buffer    // [l] ‖W_d[:, j]‖², or g_j·w_j
    let inverse: Buffer    // [l] ≈ 1/‖W_d[:, j]‖
    let newton: Buffer     // [l] Newton scratch
    let ones: Buffer       // [n]
    let broadcast: Buffer  // [n, l] rows of `inverse` or of `squares`

    /// Newton steps of the device-side inverse square root (see ``normalizeDecoder()``).
    static let newtonSteps = 3

    /// Σ‖x − x̄‖² of the split the explained variance is measured on (validation, else training).
    let totalDeviation: Double

    /// Finds the dictionary's tensors in `model`, whose sparse code is `code`; with
    /// ``SAEOptions/tiedInitialization`` the model gets the tied start from up to ``candidateCount`` rows of
    /// `training` drawn by `seed` (a resumed run then loads its own weights over it).
    init(model: Autoencoder, code: SparseCode, options: SAEOptions, training: any BatchedRows,
         validation: (any BatchedRows)?, seed: UInt64) throws {
        guard let decoder = model.decoder.layers.first as? Linear,
              let decoderWeightID = decoder.weightID, let decoderBiasID = decoder.biasID,
              let encoderWeightID = code.projection.weightID, let encoderBiasID = code.projection.biasID else {
            throw ConfigError.invalid("--sae needs --model sparse with one linear layer each way")
        }
        let device = model.device
        self.device = device
        self.options = options
        self.code = code
        n = model.inputDimension
        l = model.latentDim
        decoderWeight = model.store.value(decoderWeightID)
        decoderGradient = model.store.gradient(decoderWeightID)
        decoderBias = model.store.value(decoderBiasID)
        encoderWeight = model.store.value(encoderWeightID)
        encoderBias = model.store.value(encoderBiasID)
        valueBase = model.store.values.offset
        func floats(_ count: Int) throws -> Buffer { try device.makeBuffer(count: count, dtype: .float32) }
        squares = try floats(l)
        inverse = try floats(l)
        newton = try floats(l)
        ones = try floats(n)
        device.fill(ones.whole, with: 1)
        broadcast = try floats(n * l)
        totalDeviation = try Self.totalSquaredDeviation(validation ?? training)
        if options.tiedInitialization { try tie(mean: Self.meanRow(training, seed: seed)) }
        if options.normalizeDecoder { normalizeOnHost() }
    }

    /// 1 − Σ‖x − x̂‖² / Σ‖x − x̄‖² for the squared errors over the split of ``totalDeviation``; nil when it has no
    /// variance.
    func explainedVariance(squaredError: Double) -> Double? {
        totalDeviation > 0 ? 1 - squaredError / totalDeviation : nil
    }

    /// The tied start: W_d = W_eᵀ, b_d = `mean` and b_e = −W_e·mean, so the first codes are those of x − mean
    /// under the encoder's own initialization.
    private func tie(mean: [Float]) {
        let we = device.read(encoderWeight)
        var wd = [Float](repeating: 0, count: n * l), be = [Float](repeating: 0, count: l)
        for j in 0..<l {
            var dot: Float = 0
            for i in 0..<n {
                wd[i * l + j] = we[j * n + i]
                dot += we[j * n + i] * mean[i]
            }
            be[j] = -dot
        }
        device.write(wd, to: decoderWeight)
        device.write(mean, to: decoderBias)
        device.write(be, to: encoderBias)
    }

    /// The mean of up to ``candidateCount`` rows of `data` drawn by `seed`, summed in double precision.
    static func meanRow(_ data: any BatchedRows, seed: UInt64) throws -> [Float] {
        let d = data.dimension
        var sum = [Double](repeating: 0, count: d), rows = 0
        let drawn = DeviceDataset.sample(candidateCount, count: data.count, seed: seed ^ 0xB1A5, epoch: 0)
        var batches = data.batches(order: drawn, dropLast: false)
        while let batch = batches.next() {
            let x = data.device.read(batch.x.slice(0, batch.valid * d))
            for i in 0..<batch.valid * d { sum[i % d] += Double(x[i]) }
            rows += batch.valid
        }
        try batches.check()
        return sum.map { Float($0 / Double(max(rows, 1))) }
    }

    /// Removes from each decoder column's gradient its component along the column, g_j ← g_j − (g_j·w_j)·w_j
    /// (columns are unit), on the device: the part of the step the renormalization after it would undo.
    func projectDecoderGradient() {
        guard options.projectDecoderGradient else { return }
        device.multiply(decoderGradient, decoderWeight, into: broadcast.whole)
        device.reduce(broadcast.whole, rows: n, cols: l, axis: .rows, op: .sum, scale: 1, into: squares.whole,
                      accumulate: false)
        device.gemm(ones.whole, squares.whole, into: broadcast.whole, m: n, n: l, k: 1)
        device.multiply(broadcast.whole, decoderWeight, into: broadcast.whole)
        device.axpby(alpha: -1, broadcast.whole, beta: 1, decoderGradient)
    }

    /// Scales every decoder column to unit norm on the device, without reading anything back:
    /// s_j = Σ_i W_d[i, j]² (a column reduction), y_j ≈ s_j^(−1/2) by Newton's iteration for the inverse square
    /// root y ← y·(3 − s·y²)/2 started at y = 1, then W_d ← W_d ⊙ (1 y^T) (the outer product 1·y^T by GEMM).
    ///
    /// Columns are unit after the previous step and one Adam step moves them little, so s ≈ 1 and three
    /// Newton steps reach float precision (the error squares each step: |1 − s| = 0.05 gives ~10⁻¹¹). Columns
    /// set on the host (start, resampling) are normalized there exactly.
    func normalizeDecoder() {
        guard options.normalizeDecoder else { return }
        device.reduce(decoderWeight, rows: n, cols: l, axis: .rows, op: .sumOfSquares, scale: 1, into: squares.whole,
                      accumulate: false)
        device.fill(inverse.whole, with: 1)
        for _ in 0..<Self.newtonSteps {
            device.multiply(inverse.whole, inverse.whole, into: newton.whole)        // y²
            device.multiply(newton.whole, squares.whole, into: newton.whole)         // s·y²
            device.affine(newton.whole, scale: -0.5, shift: 1.5, into: newton.whole) // (3 − s·y²)/2
            device.multiply(inverse.whole, newton.whole, into: inverse.whole)        // y·(3 − s·y²)/2
        }
        device.gemm(ones.whole, inverse.whole, into: broadcast.whole, m: n, n: l, k: 1)
        device.multiply(decoderWeight, broadcast.whole, into: decoderWeight)
    }

    /// Exact unit-norm columns, computed on the host (a column of zeros stays zero).
    private func normalizeOnHost() {
        var w = device.read(decoderWeight)
        for j in 0..<l {
            var s: Float = 0
            for i in 0..<n { s += w[i * l + j] * w[i * l + j] }
            guard s > 0 else { continue }
            let scale = 1 / s.squareRoot()
            for i in 0..<n { w[i * l + j] *= scale }
        }
        device.write(w, to: decoderWeight)
    }

    /// Re-initializes the latents that never fired in the epoch (``Autoencoder``'s unit activity is zero) and
    /// returns how many; must run right after the epoch's training steps. As in Bricken et al. (2023, "Towards
    /// Monosemanticity"): up to ``candidateCount`` training inputs drawn by (seed, epoch) are reconstructed, and
    /// each dead latent takes one of them drawn with probability ∝ its squared error², without replacement: with
    /// d = x/‖x‖ its decoder column W_d[:, j] = d, its encoder row W_e[j, :] = s·d and its encoder bias b_e[j] = 0,
    /// and the optimizer's state of those parameters is zeroed (``Optimizer/resetState(at:store:)``), so no
    /// stale moment drags them back.
    ///
    /// The encoder scale s is a fraction of ā, the mean norm of the live encoder rows (all rows when none lives):
    /// 0.2·ā for ReLU codes, where the latent fires wherever d·x > 0, as in the paper; ā for top-k codes, where
    /// a latent fires only among an input's k largest pre-activations and 0.2·ā lies below a typical k-th
    /// largest, so the latent would stay dead (see ``encoderScale``).
    func resampleDeadLatents(model: Autoencoder, optimizer: any Optimizer, data: any BatchedRows, seed: UInt64,
                             epoch: Int) throws -> Int {
        guard options.resampleDeadLatents else { return 0 }
        let activity = device.read(code.unitActivity.whole)
        let dead = activity.indices.filter { activity[$0] == 0 }
        guard !dead.isEmpty else { return 0 }
        let candidates = try scoredInputs(model: model, data: data, seed: seed, epoch: epoch)
        var generator = SplitMix64(seed: seed ^ 0x5AE_DEAD ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15))
        let sources = Self.draw(count: dead.count, weights: candidates.losses.map { Double($0) * Double($0) },
                                generator: &generator)
        guard !sources.isEmpty else { return 0 }

        var we = device.read(encoderWeight), wd = device.read(decoderWeight), be = device.read(encoderBias)
        let deadSet = Set(dead)
        let live = (0..<l).filter { !deadSet.contains($0) }
        func rowNorm(_ j: Int) -> Float { (0..<n).reduce(0) { $0 + we[j * n + $1] * we[j * n + $1] }.squareRoot() }
        let pool = live.isEmpty ? Array(0..<l) : live
        let scale = Self.encoderScale(model.config.sparsity) * pool.map(rowNorm).reduce(0, +) / Float(pool.count)
        var resampled: [Int] = []
        for (j, source) in zip(dead, sources) {
            let x = candidates.inputs[(source * n)..<((source + 1) * n)]
            let norm = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 0 else { continue }
            for (i, value) in x.enumerated() {
                wd[i * l + j] = value / norm
                we[j * n + i] = scale * value / norm
            }
            be[j] = 0
            resampled.append(j)
        }
        device.write(we, to: encoderWeight)
        device.write(wd, to: decoderWeight)
        device.write(be, to: encoderBias)
        optimizer.resetState(at: parameterIndices(of: resampled), store: model.store)
        return resampled.count
    }

    /// The fraction of the mean live encoder norm a resampled latent's encoder row gets: 0.2 for ReLU codes
    /// (Bricken et al.), 1 for top-k codes. Measured on 20,000 synthetic 64-dimensional activations (sparse
    /// sums of 512 directions) with 1,024 latents and k = 32: at 0.2, 42–65 latents (4–6%) were dead in each of
    /// the last five of 20 epochs, at 0.5 47–77, at 1 22–29 (2–3%), and the test loss was lowest at 1.
    static func encoderScale(_ sparsity: SparsityConfig) -> Float {
        switch sparsity {
        case .l1: return 0.2
        case .topK: return 1
        }
    }

    /// Inputs scored for resampling: up to this many training samples, drawn by (seed, epoch).
    static let candidateCount = 8192

    /// Up to ``candidateCount`` training inputs drawn by (seed, epoch) and their squared errors ‖x − x̂‖².
    private func scoredInputs(model: Autoencoder, data: any BatchedRows, seed: UInt64, epoch: Int)
        throws -> (inputs: [Float], losses: [Float]) {
        let drawn = DeviceDataset.sample(Self.candidateCount, count: data.count, seed: seed ^ 0x5AE_DEAD, epoch: epoch)
        var inputs: [Float] = [], losses: [Float] = []
        var batches = data.batches(order: drawn, dropLast: false)
        while let batch = batches.next() {
            let x = device.read(batch.x.slice(0, batch.valid * n))
            let xHat = device.read(model.reconstruct(batch.x).slice(0, batch.valid * n))
            for row in 0..<batch.valid {
                var loss: Float = 0
                for i in row * n..<(row + 1) * n { loss += (x[i] - xHat[i]) * (x[i] - xHat[i]) }
                losses.append(loss)
            }
            inputs += x
        }
        try batches.check()
        return (inputs, losses)
    }

    /// `count` indices drawn with probability proportional to `weights`, without replacement while enough
    /// positive weights remain (Efraimidis & Spirakis: the largest keys log(u)/w), then again from the start.
    static func draw(count: Int, weights: [Double], generator: inout SplitMix64) -> [Int] {
        let keyed = weights.indices.compactMap { i -> (key: Double, index: Int)? in
            guard weights[i] > 0 else { return nil }
            let u = (Double(generator.next() >> 11) + 0.5) / Double(1 << 53)
            return (log(u) / weights[i], i)
        }.sorted { $0.key > $1.key }
        guard !keyed.isEmpty else { return [] }
        return (0..<count).map { keyed[$0 % keyed.count].index }
    }

    /// The offsets in the store's values of the dead latents' encoder rows, encoder biases and decoder columns.
    private func parameterIndices(of latents: [Int]) -> [Int] {
        let we = encoderWeight.offset - valueBase, be = encoderBias.offset - valueBase
        let wd = decoderWeight.offset - valueBase
        var indices: [Int] = []
        for j in latents {
            indices.append(be + j)
            for i in 0..<n {
                indices.append(we + j * n + i)
                indices.append(wd + i * l + j)
            }
        }
        return indices
    }

    /// Σ_i ‖x_i − x̄‖² of a data set, x̄ its mean sample: the denominator of the explained variance. Two passes
    /// over the rows in order, read back from the device and summed in double precision.
    static func totalSquaredDeviation(_ data: any BatchedRows) throws -> Double {
        let d = data.dimension, count = data.count
        guard count > 0 else { return 0 }
        func eachRow(_ body: (UnsafeBufferPointer<Float>) -> Void) throws {
            var batches = data.inOrder()
            while let batch = batches.next() {
                let rows = data.device.read(batch.x.slice(0, batch.valid * d))
                rows.withUnsafeBufferPointer { x in
                    for i in 0..<batch.valid { body(UnsafeBufferPointer(rebasing: x[(i * d)..<((i + 1) * d)])) }
                }
            }
            try batches.check()
        }
        var mean = [Double](repeating: 0, count: d)
        try eachRow { x in for k in 0..<d { mean[k] += Double(x[k]) } }
        for k in 0..<d { mean[k] /= Double(count) }
        var total = 0.0
        try eachRow { x in
            for k in 0..<d {
                let v = Double(x[k]) - mean[k]
                total += v * v
            }
        }
        return total
    }
}
