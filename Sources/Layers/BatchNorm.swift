import Compute

/// Batch normalization over the channel dimension (PyTorch's `BatchNorm1d`/`BatchNorm2d` with affine
/// parameters and running statistics). Use ``BatchNorm1d`` or ``BatchNorm2d``.
///
/// Training: x̂ = (x − μ_B)/√(σ²_B + ε) per channel over the batch and spatial positions, y = γ·x̂ + β, and
/// running_mean ← (1−m)·running_mean + m·μ_B, running_var ← (1−m)·running_var + m·σ²_B (unbiased),
/// num_batches_tracked += 1. Evaluation: the running statistics replace the batch ones.
///
/// Parameters `weight` (γ, 1) and `bias` (β, 0); state `running_mean` (0), `running_var` (1) and
/// `num_batches_tracked` (0, an integer counter).
public class BatchNorm: Layer {
    /// Channels C.
    public let features: Int
    /// ε added to the variance.
    public let epsilon: Float
    /// m, the weight of the new batch statistics in the running ones.
    public let momentum: Float
    private let layerName: String
    private let acceptedRanks: Set<Int>

    private var gammaID: ParameterID?
    private var betaID: ParameterID?
    private var meanID: StateID?
    private var varianceID: StateID?
    private var countID: StateID?
    private var prepared: Reference<Prepared>?
    private var input: BufferSlice?
    private var trainedForward = true

    private struct Prepared {
        let device: any Device
        let n: Int, spatial: Int
        let gamma: BufferSlice, dgamma: BufferSlice, beta: BufferSlice, dbeta: BufferSlice
        let runningMean: BufferSlice, runningVar: BufferSlice, batchesTracked: BufferSlice
        let output: Buffer        // y [N, C, S]
        let dinput: Buffer        // dx [N, C, S]
        let savedMean: Buffer     // μ [C]
        let savedInvStd: Buffer   // 1/√(σ² + ε) [C]
        let ones: Buffer          // [C] ones
        let zeros: Buffer         // [C] zeros
        let scratch: Buffer       // [2C] saved statistics an evaluation-mode call may write
        let shardScratch: Buffer  // [4C] a sharded step's statistics and corrections (``ShardedStatistics``)
    }

    init(features: Int, epsilon: Float, momentum: Float, name: String, acceptedRanks: Set<Int>) {
        self.features = features
        self.epsilon = epsilon
        self.momentum = momentum
        self.layerName = name
        self.acceptedRanks = acceptedRanks
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard features > 0, epsilon >= 0 else {
            throw LayerError.invalidConfiguration(layer: layerName, message: "needs positive features and non-negative eps")
        }
        guard acceptedRanks.contains(inputShape.count), inputShape.first == features, inputShape.allSatisfy({ $0 > 0 }) else {
            let ranks = acceptedRanks.sorted().map { "\($0)-D" }.joined(separator: " or ")
            throw LayerError.invalidShape(layer: "\(layerName)(\(features))",
                                          message: "expects \(ranks) per-sample inputs with \(features) channels first, got \(inputShape)")
        }
        return inputShape
    }

    public func declareParameters(in layout: inout ParameterLayout, prefix: String) {
        gammaID = layout.parameter(prefix + "weight", shape: [features], initializer: .constant(1))
        betaID = layout.parameter(prefix + "bias", shape: [features], initializer: .constant(0))
        meanID = layout.state(prefix + "running_mean", shape: [features], initializer: .constant(0))
        varianceID = layout.state(prefix + "running_var", shape: [features], initializer: .constant(1))
        countID = layout.state(prefix + "num_batches_tracked", shape: [], initializer: .constant(0), isInteger: true)
    }

    public func prepare(device: any Device, store: ParameterStore, inputShape: [Int], batch: Int) throws {
        _ = try outputShape(for: inputShape)
        guard let gammaID, let betaID, let meanID, let varianceID, let countID else {
            preconditionFailure("\(layerName): declareParameters before prepare")
        }
        let count = batch * elementCount(inputShape)
        let ones = try device.makeBuffer(count: features, dtype: .float32)
        device.fill(ones.whole, with: 1)
        prepared = Reference(Prepared(
            device: device, n: batch, spatial: elementCount(inputShape) / features,
            gamma: store.value(gammaID), dgamma: store.gradient(gammaID),
            beta: store.value(betaID), dbeta: store.gradient(betaID),
            runningMean: store.state(meanID), runningVar: store.state(varianceID), batchesTracked: store.state(countID),
            output: try device.makeBuffer(count: count, dtype: .float32),
            dinput: try device.makeBuffer(count: count, dtype: .float32),
            savedMean: try device.makeBuffer(count: features, dtype: .float32),
            savedInvStd: try device.makeBuffer(count: features, dtype: .float32),
            ones: ones,
            zeros: try device.makeBuffer(count: features, dtype: .float32),
            scratch: try device.makeBuffer(count: 2 * features, dtype: .float32),
            shardScratch: try device.makeBuffer(count: 4 * features, dtype: .float32)))
    }

    public func forward(_ x: BufferSlice, context: StepContext) -> BufferSlice {
        guard let p = prepared else { preconditionFailure("\(layerName): prepare before forward") }
        input = x
        trainedForward = context.training
        let y = p.output.whole
        if context.training, let shard = context.shard, let reduction = shard.reduction {
            forwardWithGlobalStatistics(x, into: y, p: p, reduction: reduction, globalRows: shard.globalRows)
        } else {
            // x [N, C, S] → y [N, C, S] = γ·x̂ + β
            p.device.batchNormForward(x, gamma: p.gamma, beta: p.beta, runningMean: p.runningMean, runningVar: p.runningVar,
                                      savedMean: p.savedMean.whole, savedInvStd: p.savedInvStd.whole, into: y,
                                      n: p.n, channels: features, spatial: p.spatial, momentum: momentum,
                                      epsilon: epsilon, training: context.training)
        }
        if context.training {
            // num_batches_tracked += 1
            p.device.axpby(alpha: 1, p.ones.slice(0, 1), beta: 1, p.batchesTracked)
        }
        return y
    }

    /// A shard's training forward pass with the statistics of the global batch (synchronized batch norm).
    ///
    /// The shard's own mean μ_r and v_r = σ²_r + ε come from a training-mode pass with momentum 0 (the running
    /// statistics stay). Over the shards, with M_r values per channel each and M in all,
    /// μ = Σ M_r·μ_r / M and σ² + ε = Σ M_r·v_r / M + Σ M_r·μ_r² / M − μ² (one reduction of 3C values). y is
    /// then the evaluation-mode normalization with μ and σ², and the running statistics move as one process's
    /// would, with the unbiased σ²·M/(M − 1).
    private func forwardWithGlobalStatistics(_ x: BufferSlice, into y: BufferSlice, p: Reference<Prepared>,
                                             reduction: any ShardReduction, globalRows: Int) {
        let d = p.device, c = features
        d.batchNormForward(x, gamma: p.gamma, beta: p.beta, runningMean: p.runningMean, runningVar: p.runningVar,
                           savedMean: p.savedMean.whole, savedInvStd: p.savedInvStd.whole, into: y,
                           n: p.n, channels: c, spatial: p.spatial, momentum: 0, epsilon: epsilon, training: true)
        let local = Double(p.n * p.spatial), total = Double(globalRows * p.spatial)
        let mean = d.read(p.savedMean.whole), invStd = d.read(p.savedInvStd.whole)
        var moments = [Double](repeating: 0, count: 3 * c)
        for j in 0..<c {
            let mu = Double(mean[j]), v = 1 / (Double(invStd[j]) * Double(invStd[j]))
            moments[j] = local * mu
            moments[c + j] = local * v
            moments[2 * c + j] = local * mu * mu
        }
        reduction.sumOverShards(&moments)
        var globalMean = [Float](repeating: 0, count: c), globalInvStd = globalMean
        var variance = globalMean, unbiased = globalMean
        for j in 0..<c {
            let mu = moments[j] / total
            let v = max(moments[c + j] / total + moments[2 * c + j] / total - mu * mu, Double(epsilon))
            globalMean[j] = Float(mu)
            globalInvStd[j] = Float(1 / v.squareRoot())
            variance[j] = Float(v - Double(epsilon))
            unbiased[j] = Float((v - Double(epsilon)) * total / max(total - 1, 1))
        }
        let stats = ShardedStatistics(p.shardScratch, channels: c)
        d.write(globalMean, to: p.savedMean.whole)
        d.write(globalInvStd, to: p.savedInvStd.whole)
        d.write(variance, to: stats.variance)
        d.write(unbiased, to: stats.unbiasedVariance)
        d.batchNormForward(x, gamma: p.gamma, beta: p.beta, runningMean: p.savedMean.whole, runningVar: stats.variance,
                           savedMean: p.scratch.slice(0, c), savedInvStd: p.scratch.slice(c, c), into: y,
                           n: p.n, channels: c, spatial: p.spatial, momentum: 0, epsilon: epsilon, training: false)
        d.axpby(alpha: momentum, p.savedMean.whole, beta: 1 - momentum, p.runningMean)
        d.axpby(alpha: momentum, stats.unbiasedVariance, beta: 1 - momentum, p.runningVar)
    }

    /// Views of a sharded step's scratch: σ² of the global batch, its unbiased form, and the backward pass's
    /// per-channel sums (reused as the correction's scale and shift).
    private struct ShardedStatistics {
        let variance: BufferSlice, unbiasedVariance: BufferSlice, sumDyXHat: BufferSlice, sumDy: BufferSlice

        init(_ scratch: Buffer, channels c: Int) {
            variance = scratch.slice(0, c)
            unbiasedVariance = scratch.slice(c, c)
            sumDyXHat = scratch.slice(2 * c, c)
            sumDy = scratch.slice(3 * c, c)
        }
    }

    public func backward(_ dy: BufferSlice, context: StepContext, needInputGradient: Bool) -> BufferSlice? {
        guard let p = prepared, let x = input else { preconditionFailure("\(layerName): forward before backward") }
        let d = p.device
        let dx = p.dinput.whole
        if trainedForward, let shard = context.shard, let reduction = shard.reduction {
            backwardWithGlobalSums(dy, x: x, into: dx, p: p, reduction: reduction, globalRows: shard.globalRows)
        } else if trainedForward {
            // dγ += Σ dy·x̂, dβ += Σ dy, dx = γ·σ⁻¹/M·(M·dy − Σdy − x̂·Σ dy·x̂) with M = N·S
            d.batchNormBackward(dy, x: x, gamma: p.gamma, savedMean: p.savedMean.whole, savedInvStd: p.savedInvStd.whole,
                                dx: dx, dgamma: p.dgamma, dbeta: p.dbeta, n: p.n, channels: features, spatial: p.spatial)
        } else {
            // Frozen statistics: x̂ = (x − running_mean)·σ⁻¹ with σ⁻¹ = 1/√(running_var + ε), computed as the
            // evaluation-mode normalization of ones with γ = 1, β = 0 and a zero mean.
            d.copy(p.runningMean, to: p.savedMean.whole)
            d.batchNormForward(p.ones.whole, gamma: p.ones.whole, beta: p.zeros.whole, runningMean: p.zeros.whole,
                               runningVar: p.runningVar, savedMean: p.scratch.slice(0, features), savedInvStd: p.scratch.slice(features, features),
                               into: p.savedInvStd.whole, n: 1, channels: features, spatial: 1, momentum: 0,
                               epsilon: epsilon, training: false)
            // dγ += Σ dy·x̂ and dβ += Σ dy are the same sums as in training (its dx is replaced below).
            d.batchNormBackward(dy, x: x, gamma: p.gamma, savedMean: p.savedMean.whole, savedInvStd: p.savedInvStd.whole,
                                dx: dx, dgamma: p.dgamma, dbeta: p.dbeta, n: p.n, channels: features, spatial: p.spatial)
            // dx = γ·σ⁻¹·dy: the evaluation-mode normalization of dy with β = 0 and a zero mean
            d.batchNormForward(dy, gamma: p.gamma, beta: p.zeros.whole, runningMean: p.zeros.whole,
                               runningVar: p.runningVar, savedMean: p.scratch.slice(0, features), savedInvStd: p.scratch.slice(features, features),
                               into: dx, n: p.n, channels: features, spatial: p.spatial, momentum: 0,
                               epsilon: epsilon, training: false)
        }
        return needInputGradient ? dx : nil
    }

    /// A shard's training backward pass with the sums of the global batch: the shard's Σ dy·x̂ and Σ dy (its
    /// dγ and dβ, added to the gradients) are summed over the shards (one reduction of 2C values), and the
    /// shard's dx, computed with its own means, is corrected to the global ones:
    ///
    ///     dx = dx_r + γ·σ⁻¹·((m₁,r − m₁) + x̂·(m₂,r − m₂)),   m₁ = Σ dy / M,   m₂ = Σ dy·x̂ / M
    ///
    /// where the correction is the evaluation-mode normalization of x with scale γ·σ⁻¹·(m₂,r − m₂) and shift
    /// γ·σ⁻¹·(m₁,r − m₁).
    private func backwardWithGlobalSums(_ dy: BufferSlice, x: BufferSlice, into dx: BufferSlice, p: Reference<Prepared>,
                                        reduction: any ShardReduction, globalRows: Int) {
        let d = p.device, c = features, stats = ShardedStatistics(p.shardScratch, channels: c)
        d.fill(stats.sumDyXHat, with: 0)
        d.fill(stats.sumDy, with: 0)
        d.batchNormBackward(dy, x: x, gamma: p.gamma, savedMean: p.savedMean.whole, savedInvStd: p.savedInvStd.whole,
                            dx: dx, dgamma: stats.sumDyXHat, dbeta: stats.sumDy, n: p.n, channels: c, spatial: p.spatial)
        d.axpby(alpha: 1, stats.sumDyXHat, beta: 1, p.dgamma)
        d.axpby(alpha: 1, stats.sumDy, beta: 1, p.dbeta)
        let local = d.read(p.shardScratch.slice(2 * c, 2 * c)).map(Double.init)
        var global = local
        reduction.sumOverShards(&global)
        let gamma = d.read(p.gamma), invStd = d.read(p.savedInvStd.whole)
        let m = Double(p.n * p.spatial), total = Double(globalRows * p.spatial)
        var scale = [Float](repeating: 0, count: c), shift = scale
        for j in 0..<c {
            let factor = Double(gamma[j]) * Double(invStd[j])
            scale[j] = Float(factor * (local[j] / m - global[j] / total))
            shift[j] = Float(factor * (local[c + j] / m - global[c + j] / total))
        }
        d.write(scale, to: stats.sumDyXHat)
        d.write(shift, to: stats.sumDy)
        let correction = p.output.whole   // y is no longer needed once the backward pass runs
        d.batchNormForward(x, gamma: stats.sumDyXHat, beta: stats.sumDy, runningMean: p.savedMean.whole,
                           runningVar: stats.variance, savedMean: p.scratch.slice(0, c), savedInvStd: p.scratch.slice(c, c),
                           into: correction, n: p.n, channels: c, spatial: p.spatial, momentum: 0, epsilon: epsilon,
                           training: false)
        d.axpby(alpha: 1, correction, beta: 1, dx)
    }
}

/// Batch normalization of [C] or [C, L] samples, PyTorch's `nn.BatchNorm1d`.
public final class BatchNorm1d: BatchNorm {
    public init(_ features: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        super.init(features: features, epsilon: eps, momentum: momentum, name: "BatchNorm1d", acceptedRanks: [1, 2])
    }
}

/// Batch normalization of [C, H, W] samples, PyTorch's `nn.BatchNorm2d`.
public final class BatchNorm2d: BatchNorm {
    public init(_ features: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        super.init(features: features, epsilon: eps, momentum: momentum, name: "BatchNorm2d", acceptedRanks: [3])
    }
}
