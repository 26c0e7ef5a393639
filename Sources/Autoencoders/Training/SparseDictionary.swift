import Compute
import Foundation
import Layers

/// The ``SAEOptions`` maintenance of a one-layer sparse autoencoder on activations, run by the ``Trainer``:
/// unit-norm decoder columns after every optimizer step and dead-latent resampling after every epoch.
///
/// Decoder W_d is `decoder.0.weight`, n × l row-major (PyTorch's [out, in]), so latent j's dictionary vector is
/// column j. The encoder is `encoder.0.weight` (l × n) and `encoder.0.bias` (l).
final class SparseDictionary {
    let device: any Device
    let options: SAEOptions
    let n: Int, l: Int
    let decoderWeight: BufferSlice
    let encoderWeight: BufferSlice
    let encoderBias: BufferSlice
    let squares: Buffer    // [l] ‖W_d[:, j]‖²
    let inverse: Buffer    // [l] ≈ 1/‖W_d[:, j]‖
    let newton: Buffer     // [l] Newton scratch
    let ones: Buffer       // [n]
    let broadcast: Buffer  // [n, l] rows of `inverse`

    /// Newton steps of the device-side inverse square root (see ``normalizeDecoder()``).
    static let newtonSteps = 3

    init(model: Autoencoder, options: SAEOptions) throws {
        let device = model.device
        self.device = device
        self.options = options
        n = model.inputDimension
        l = model.latentDim
        decoderWeight = try model.store.value(named: "decoder.0.weight")
        encoderWeight = try model.store.value(named: "encoder.0.weight")
        encoderBias = try model.store.value(named: "encoder.0.bias")
        func floats(_ count: Int) throws -> Buffer { try device.makeBuffer(count: count, dtype: .float32) }
        squares = try floats(l)
        inverse = try floats(l)
        newton = try floats(l)
        ones = try floats(n)
        device.fill(ones.whole, with: 1)
        broadcast = try floats(n * l)
        if options.normalizeDecoder { normalizeOnHost() }
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
    /// returns how many. The inputs of one batch drawn by (seed, epoch) are reconstructed; the dead latents take,
    /// one each and worst first, the directions d = r/‖r‖ of the largest residuals r = x − x̂: decoder column
    /// W_d[:, j] = d, encoder row W_e[j, :] = 0.2·ā·d with ā the mean norm of the live encoder rows (all rows when
    /// none lives), and encoder bias b_e[j] = 0, so the latent fires on the inputs the dictionary misses
    /// (Bricken et al. 2023, simplified: no Adam-state reset). Must run right after the epoch's training steps.
    func resampleDeadLatents(model: Autoencoder, data: DeviceDataset, seed: UInt64, epoch: Int) -> Int {
        guard options.resampleDeadLatents else { return 0 }
        let activity = device.read(model.unitActivity.whole)
        let dead = activity.indices.filter { activity[$0] == 0 }
        guard !dead.isEmpty else { return 0 }
        let order = DeviceDataset.permutation(count: data.count, seed: seed ^ 0x5AE_DEAD, epoch: epoch)
        var batches = data.batches(order: Array(order.prefix(model.batchSize)), dropLast: false)
        guard let batch = batches.next() else { return 0 }
        let x = device.read(batch.x)
        let xHat = device.read(model.reconstruct(batch.x))
        var residuals: [(loss: Float, r: [Float])] = (0..<batch.valid).map { row in
            let r = (0..<n).map { x[row * n + $0] - xHat[row * n + $0] }
            return (r.reduce(0) { $0 + $1 * $1 }, r)
        }
        residuals.sort { $0.loss > $1.loss }
        residuals = residuals.filter { $0.loss > 0 }
        guard !residuals.isEmpty else { return 0 }

        var we = device.read(encoderWeight), wd = device.read(decoderWeight), be = device.read(encoderBias)
        let deadSet = Set(dead)
        let live = (0..<l).filter { !deadSet.contains($0) }
        func rowNorm(_ j: Int) -> Float { (0..<n).reduce(0) { $0 + we[j * n + $1] * we[j * n + $1] }.squareRoot() }
        let pool = live.isEmpty ? Array(0..<l) : live
        let meanNorm = pool.map(rowNorm).reduce(0, +) / Float(pool.count)
        for (i, j) in dead.enumerated() {
            let r = residuals[i % residuals.count]
            let norm = r.loss.squareRoot()
            for k in 0..<n {
                let d = r.r[k] / norm
                wd[k * l + j] = d
                we[j * n + k] = 0.2 * meanNorm * d
            }
            be[j] = 0
        }
        device.write(we, to: encoderWeight)
        device.write(wd, to: decoderWeight)
        device.write(be, to: encoderBias)
        return dead.count
    }

    /// Σ_i ‖x_i − x̄‖² of a data set, x̄ its mean sample: the denominator of the explained variance.
    static func totalSquaredDeviation(_ data: Dataset) -> Double {
        let d = data.dimension, count = data.count
        guard count > 0 else { return 0 }
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<count { for k in 0..<d { mean[k] += Double(data.features[i * d + k]) } }
        for k in 0..<d { mean[k] /= Double(count) }
        var total = 0.0
        for i in 0..<count {
            for k in 0..<d {
                let v = Double(data.features[i * d + k]) - mean[k]
                total += v * v
            }
        }
        return total
    }
}
