@testable import Compute
import Foundation
import Kernels
import TestSupport

/// One check per kernel family, at shapes chosen from the preset's tiles to reach every edge: remainder tiles in
/// both dimensions, split-K and split-range plans, every stride phase of the convolutions, widths that are not a
/// multiple of any work group, multi-group reductions and latents. Each runs on both devices (``compare``).
extension KernelCheck {
    /// Every family's check, in the order of `Kernels/`.
    func everyFamily() throws {
        try gemm()
        try gemmTF32()
        try convolution()
        try elementwise()
        try reduction()
        try randomDraws()
        try vae()
        try loss()
        try optimizer()
        try quantization()
        try normalization()
        try tensor()
    }

    // MARK: gemm.cl, gemm_tf32.cl

    /// Products over two tiles with a remainder in each dimension and a K with a partial slice, k = 1, and a
    /// batch-sized product; every transpose, every plan (tiled, blocked, blocked split three ways along K), with a
    /// bias and activation and β ≠ 0, with g′(Y) and the row sums of op(A), or bare.
    func gemm() throws {
        let tiles = gpu.gemmTiling
        let shapes = [(tiles.tileM + 3, tiles.tileN + 5, 2 * tiles.tileK + 3), (19, 21, 1), (3, 37, 9)]
        let plans: [GEMMPlan] = [.simple, .blocked(splits: 1, kChunk: 0), .blocked(splits: 3, kChunk: 0)]
        var variant = 0
        for (m, n, k) in shapes {
            for transposes in [(false, false), (true, false), (false, true), (true, true)] {
                for plan in plans {
                    variant += 1
                    let a = values(m * k), b = values(k * n), c0 = values(m * n), bias = values(n), y = values(m * n, 0, 1)
                    let forced: GEMMPlan = if case .blocked(let splits, _) = plan {
                        GEMMPlan.split(k: k, into: splits, tileK: tiles.tileK)
                    } else { plan }
                    try compare("gemm \(m)x\(n)x\(k) \(transposes) \(forced) variant \(variant % 3)", atol: 1e-4) { device in
                        let c = try device.view(c0), sums = try device.view(values(m))
                        let epilogue: ProductEpilogue
                        switch variant % 3 {
                        case 0: epilogue = ProductEpilogue(bias: try device.view(bias), activation: .leakyRelu(slope: 0.1))
                        case 1: epilogue = ProductEpilogue(derivative: ActivationDerivative(.tanh, output: try device.view(y)))
                        default: epilogue = .none
                        }
                        let beta: Float = variant % 3 == 0 ? 0.5 : 0
                        let rowSums = variant % 3 == 1 ? sums : nil
                        let (av, bv) = (try device.view(a), try device.view(b))
                        if let gpu = device as? OpenCLDevice {
                            gpu.gemm(av, transposeA: transposes.0, bv, transposeB: transposes.1, into: c, m: m, n: n, k: k,
                                     alpha: 0.75, beta: beta, epilogue: epilogue, rowSums: rowSums, plan: forced)
                        } else {
                            device.gemm(av, transposeA: transposes.0, bv, transposeB: transposes.1, into: c, m: m, n: n,
                                        k: k, alpha: 0.75, beta: beta, epilogue: epilogue, rowSums: rowSums)
                        }
                        return [device.readAll(c), device.readAll(sums)]
                    }
                }
            }
        }
    }

    /// The TF32 kernel with its warp product emulated in local memory (as on any device but NVIDIA's): a product
    /// over two 128×64 blocks with remainders in both dimensions and a partial 16-deep slice, every transpose, with
    /// a bias, activation and β ≠ 0, against the CPU backend's product of the inputs rounded to TF32; and the
    /// rounding kernel itself against Swift's rounding.
    func gemmTF32() throws {
        try gpu.buildOnRequest(family: "gemm_tf32", source: KernelLibrary.common + "\n" + KernelLibrary.gemmTF32,
                               options: OpenCLDevice.tf32Options(.emulated))
        let (m, n, k) = (131, 67, 21)
        for transposes in [(false, false), (true, false), (false, true), (true, true)] {
            let a = values(m * k), b = values(k * n), c0 = values(m * n), bias = values(n)
            try compare("gemm_tf32 \(m)x\(n)x\(k) \(transposes)", atol: 1e-4) { device in
                let c = try device.view(c0), epilogue = ProductEpilogue(bias: try device.view(bias), activation: .leakyRelu(slope: 0.1))
                if let gpu = device as? OpenCLDevice {
                    gpu.gemmTF32(try device.view(a), transposeA: transposes.0, try device.view(b), transposeB: transposes.1,
                                 into: c, m: m, n: n, k: k, alpha: 0.75, beta: 0.5, epilogue: epilogue)
                } else {
                    device.gemm(try device.view(a.map(referenceTF32)), transposeA: transposes.0,
                                try device.view(b.map(referenceTF32)), transposeB: transposes.1, into: c, m: m, n: n, k: k,
                                alpha: 0.75, beta: 0.5, epilogue: epilogue, rowSums: nil)
                }
                return [device.readAll(c)]
            }
        }
        let x = values(1003, -1e3, 1e3)
        try compare("tf32_round", rtol: 0, atol: 0) { device in
            guard let gpu = device as? OpenCLDevice else { return [[padding] + x.map(referenceTF32) + [padding]] }
            let y = try gpu.view([Float](repeating: 0, count: x.count))
            gpu.roundToTF32(try gpu.view(x), into: y)
            return [gpu.readAll(y)]
        }
    }

    // MARK: conv.cl

    /// Convolutions whose output channels span two row tiles with a remainder and whose positions span two column
    /// tiles (stride 2), strides 3×2 with a partial slice (every stride phase of the input gradient), and a stride
    /// larger than the kernel (phases no tap reaches) with four or fewer channels (the tiled and gather kernels):
    /// forward with bias and activation or g′(Y), the input gradient accumulated or as a transposed convolution's
    /// forward pass (bias and activation), the weight gradient with its bias gradient in one, two and three ranges,
    /// and the bias gradient alone; each with every plan.
    func convolution() throws {
        let tiles = gpu.convTiling
        let geometries = [
            ConvGeometry(batch: 5, inChannels: 3, inHeight: 13, inWidth: 11, outChannels: tiles.tileM + 3,
                         kernel: (4, 4), stride: (2, 2), padding: (1, 1)),
            ConvGeometry(batch: 2, inChannels: 5, inHeight: 10, inWidth: 9, outChannels: 6,
                         kernel: (3, 3), stride: (3, 2), padding: (1, 0)),
            ConvGeometry(batch: 2, inChannels: 2, inHeight: 8, inWidth: 7, outChannels: 3,
                         kernel: (2, 2), stride: (3, 3), padding: (0, 0)),
        ]
        for (index, g) in geometries.enumerated() {
            let x = values(g.inputCount), w = values(g.weightCount), dy = values(g.outputCount)
            let outBias = values(g.outChannels), inBias = values(g.inChannels)
            let y0 = values(g.outputCount), dx0 = values(g.inputCount), dw0 = values(g.weightCount)
            let derivative = values(g.outputCount, 0, 1)
            let shape = "\(g.batch)x\(g.inChannels)x\(g.inHeight)x\(g.inWidth)→\(g.outChannels) k\(g.kernelHeight)x\(g.kernelWidth) s\(g.strideH)x\(g.strideW) p\(g.padH)x\(g.padW)"
            for plan in [ConvPlan.simple, .blocked] {
                try compare("conv forward \(shape) \(plan)", atol: 1e-4) { device in
                    let y = try device.view(y0), weight = try device.view(w), input = try device.view(x)
                    let epilogue = index == 1
                        ? ProductEpilogue(derivative: ActivationDerivative(.sigmoid, output: try device.view(derivative)))
                        : ProductEpilogue(bias: try device.view(outBias), activation: .leakyRelu(slope: 0.1))
                    if let gpu = device as? OpenCLDevice {
                        gpu.conv2dForward(input, weight: weight, into: y, geometry: g, epilogue: epilogue, plan: plan)
                    } else {
                        device.conv2dForward(input, weight: weight, into: y, geometry: g, epilogue: epilogue)
                    }
                    return [device.readAll(y)]
                }
                for transposedForward in [false, true] {
                    try compare("conv input gradient \(shape) \(plan) \(transposedForward ? "bias, activation" : "accumulated")",
                                atol: 1e-4) { device in
                        let dx = try device.view(dx0), weight = try device.view(w), gradient = try device.view(dy)
                        let epilogue = transposedForward
                            ? ProductEpilogue(bias: try device.view(inBias), activation: .relu) : .none
                        if let gpu = device as? OpenCLDevice {
                            gpu.conv2dBackwardInput(gradient, weight: weight, into: dx, geometry: g,
                                                    accumulate: !transposedForward, epilogue: epilogue, plan: plan)
                        } else {
                            device.conv2dBackwardInput(gradient, weight: weight, into: dx, geometry: g,
                                                       accumulate: !transposedForward, epilogue: epilogue)
                        }
                        return [device.readAll(dx)]
                    }
                }
            }
            let positions = g.batch * g.outHeight * g.outWidth
            for plan in [ConvPlan.blocked] + [2, 3].map({ ConvPlan.split(positions: positions, into: $0, tileK: tiles.tileK) }) {
                for accumulate in [false, true] {
                    try compare("conv weight gradient \(shape) \(plan) accumulate \(accumulate)", atol: 2e-4) { device in
                        let dw = try device.view(dw0), db = try device.view(outBias)
                        let (input, gradient) = (try device.view(x), try device.view(dy))
                        if let gpu = device as? OpenCLDevice {
                            gpu.conv2dBackwardWeight(input, gradient, into: dw, biasGradient: db, geometry: g,
                                                     accumulate: accumulate, plan: plan)
                        } else {
                            device.conv2dBackwardWeight(input, gradient, into: dw, biasGradient: db, geometry: g,
                                                        accumulate: accumulate)
                        }
                        return [device.readAll(dw), device.readAll(db)]
                    }
                }
            }
            try compare("conv bias gradient \(shape)", atol: 1e-4) { device in
                let db = try device.view(outBias)
                device.conv2dBackwardBias(try device.view(dy), into: db, geometry: g, accumulate: true)
                return [device.readAll(db)]
            }
        }
    }

    // MARK: elementwise.cl

    /// Every activation and its derivative (in place and accumulated), axpby, products, masked gradients and
    /// top-k over rows wider and narrower than its work group, over a width that fills no group evenly.
    func elementwise() throws {
        let n = 1003
        let activations: [Activation] = [.identity, .relu, .leakyRelu(slope: 0.1), .sigmoid, .tanh, .softplus, .exp]
        for activation in activations {
            let x = values(n, -3, 3), dy = values(n), dx0 = values(n)
            try compare("activate and activation_backward \(activation)", atol: 1e-5) { device in
                let input = try device.view(x), y = try device.view(dx0), dx = try device.view(dx0)
                device.activate(input, into: y, activation: activation)
                device.activationBackward(try device.view(dy), input: input, output: y, into: dx, activation: activation,
                                          accumulate: true)
                let inPlace = try device.view(x)
                device.activate(inPlace, into: inPlace, activation: activation)
                return [device.readAll(y), device.readAll(dx), device.readAll(inPlace)]
            }
        }
        let a = values(n), b = values(n), mask = values(n).map { $0 > 0 ? Float(1) : 0 }
        try compare("axpby, multiply, masked_gradient") { device in
            let x = try device.view(a), y = try device.view(b), c = try device.view(a)
            device.axpby(alpha: 0.5, x, beta: -2, y)
            device.multiply(x, y, into: c)
            let masked = try device.view(b)
            device.maskedGradient(c, mask: try device.view(mask), into: masked)
            return [device.readAll(y), device.readAll(c), device.readAll(masked)]
        }
        for (rows, cols, k) in [(5, 300, 7), (9, 37, 5), (3, 600, 300)] {
            let x = values(rows * cols)
            try compare("top_k_rows \(rows)x\(cols) k \(k)", rtol: 0, atol: 0) { device in
                let y = try device.view(values(rows * cols)), inPlace = try device.view(x)
                device.topK(try device.view(x), into: y, rows: rows, cols: cols, k: k)
                device.topK(inPlace, into: inPlace, rows: rows, cols: cols, k: k)
                return [device.readAll(y), device.readAll(inPlace)]
            }
        }
    }

    // MARK: reduce.cl

    /// Every reduction along every axis over odd shapes (a whole-buffer sum over several work groups), epoch-sum
    /// bookkeeping, and the plain and converting row gathers over an odd width with an index past the source's end.
    func reduction() throws {
        let ops: [ReductionOp] = [.sum, .sumOfSquares, .sumOfAbs, .max]
        for (rows, cols) in [(37, 300), (300, 37), (1, 2 * 4096 + 37)] {
            let x = values(rows * cols)
            for op in ops {
                for axis in [ReductionAxis.rows, .columns, .all] {
                    let count = axis == .rows ? cols : axis == .columns ? rows : 1
                    let y0 = values(count)
                    try compare("reduce \(rows)x\(cols) \(axis) \(op)", atol: 1e-4) { device in
                        let y = try device.view(y0)
                        device.reduce(try device.view(x), rows: rows, cols: cols, axis: axis, op: op, scale: 0.5, into: y,
                                      accumulate: op != .max)
                        return [device.readAll(y)]
                    }
                }
            }
        }
        let terms = values(3 * 1003)
        try compare("accumulate_row_sums", atol: 1e-4) { device in
            let y = try device.view(values(3)), total = try device.view([Float(2)])
            device.accumulateRowSums(try device.view(terms), rows: 3, cols: 1003, weights: [1, 0.5, -2], into: y, total: total)
            return [device.readAll(y), device.readAll(total)]
        }
        let cols = 37, sourceRows = 11
        let indices: [Int32] = [3, 0, 10, 11, 5, 5, 2]
        let floats = values(sourceRows * cols, -100, 100)
        let bytes = (0..<(sourceRows * cols)).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        let halves = floats.map { Float16($0).bitPattern }
        let halfBytes = halves.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] }
        try compare("gather_rows and the converting gathers", rtol: 0, atol: 0) { device in
            let index = try device.view(indices)
            let out = (0..<4).map { _ in try! device.view([Float](repeating: 0, count: indices.count * cols)) }
            device.gatherRows(try device.view(floats), indices: index, cols: cols, into: out[0])
            device.gatherRows(try device.view(floats), indices: index, cols: cols, scale: 0.5, shift: -1, into: out[1])
            device.gatherRows(try device.makeBuffer(bytes: bytes, dtype: .uint8).whole, indices: index, cols: cols,
                              scale: 1 / 255, shift: -0, into: out[2])
            device.gatherRows(try device.makeBuffer(bytes: halfBytes, dtype: .float16).whole, indices: index, cols: cols,
                              scale: 1, shift: -0, into: out[3])
            return out.map { device.readAll($0) }
        }
    }

    // MARK: random.cl

    /// Uniform, normal and Bernoulli draws and the three corruptions, over an odd count from an odd stream offset.
    func randomDraws() throws {
        let n = 1003, x = values(n, 0, 1)
        let stream = RandomStream(seed: 26, stream: 3, offset: 5)
        let corruptions: [Corruption] = [.gaussian(sigma: 0.3), .masking(probability: 0.25),
                                         .saltAndPepper(probability: 0.2, low: 0, high: 1)]
        try compare("random draws and corruptions", atol: 1e-5) { device in
            let outputs = (0..<6).map { _ in try! device.view([Float](repeating: 0, count: n)) }
            device.fillUniform(outputs[0], low: -2, high: 3, random: stream)
            device.fillNormal(outputs[1], mean: 0.5, std: 2, random: stream)
            device.fillBernoulli(outputs[2], keep: 0.7, scale: 1 / 0.7, random: stream)
            for (index, corruption) in corruptions.enumerated() {
                device.corrupt(try device.view(x), into: outputs[3 + index], corruption: corruption, random: stream)
            }
            return outputs.map { device.readAll($0) }
        }
    }

    // MARK: vae.cl

    /// Reparameterization forward and backward, the fused latent forward in one work group and over several (its
    /// KL column sums then finished by a second kernel), the fused backward with a free-bits mask, the KL gradient.
    func vae() throws {
        for (batch, dim) in [(5, 7), (130, 70)] {
            let n = batch * dim
            let mu = values(n), logvar = values(n, -2, 1), dz = values(n), mask = values(dim).map { $0 > -0.5 ? Float(1) : 0 }
            let stream = RandomStream(seed: 26, stream: 1, offset: 3)
            try compare("vae latent \(batch)x\(dim)", atol: 1e-4) { device in
                let (m, lv) = (try device.view(mu), try device.view(logvar))
                let eps = try device.view(values(n)), z = try device.view(values(n))
                let perSample = try device.view(values(batch)), perDimension = try device.view(values(dim))
                let sums = try device.view(values(dim))
                device.gaussianLatent(mu: m, logvar: lv, batch: batch, dim: dim, eps: eps, into: z, random: stream,
                                      klPerSample: perSample, klPerDimension: perDimension, klDimensionSums: sums)
                let dmu = try device.view(values(n)), dlogvar = try device.view(values(n))
                device.gaussianLatentBackward(try device.view(dz), mu: m, logvar: lv, eps: eps, batch: batch, dim: dim,
                                              klWeight: 0.7, dimensionMask: try device.view(mask), dmu: dmu, dlogvar: dlogvar)
                let eps2 = try device.view(values(n)), z2 = try device.view(values(n))
                device.reparameterize(mu: m, logvar: lv, eps: eps2, into: z2, random: stream.advanced(by: 7))
                let dmu2 = try device.view(dz), dlogvar2 = try device.view(dz)
                device.reparameterizeBackward(try device.view(dz), logvar: lv, eps: eps2, dmu: dmu2, dlogvar: dlogvar2,
                                              accumulate: true)
                device.klBackward(mu: m, logvar: lv, batch: batch, dim: dim, weight: 0.3, dimensionMask: nil,
                                  dmu: dmu2, dlogvar: dlogvar2)
                return [z, eps, perSample, perDimension, sums, dmu, dlogvar, z2, eps2, dmu2, dlogvar2].map { device.readAll($0) }
            }
        }
    }

    // MARK: loss.cl

    /// Each reconstruction loss and the L1 penalty with their gradients, over rows wider than the loss work group.
    func loss() throws {
        for (rows, cols) in [(5, 300), (7, 37)] {
            let n = rows * cols
            let prediction = values(n, 0.01, 0.99), target = values(n, 0, 1), logits = values(n, -4, 4)
            for kind in [ReconstructionLoss.bceWithLogits, .bce, .mse] {
                try compare("loss_reconstruction \(kind) \(rows)x\(cols)", atol: 1e-4) { device in
                    let perRow = try device.view(values(rows)), gradient = try device.view(values(n))
                    device.reconstructionLoss(kind, prediction: try device.view(kind == .bceWithLogits ? logits : prediction),
                                              target: try device.view(target), rows: rows, cols: cols, perRow: perRow,
                                              gradient: gradient, gradientScale: 0.25)
                    return [device.readAll(perRow), device.readAll(gradient)]
                }
            }
            try compare("loss_l1 \(rows)x\(cols)", atol: 1e-4) { device in
                let perRow = try device.view(values(rows)), gradient = try device.view(values(n))
                device.l1Penalty(try device.view(logits), rows: rows, cols: cols, lambda: 0.01, perRow: perRow,
                                 gradient: gradient, gradientScale: 0.5)
                return [device.readAll(perRow), device.readAll(gradient)]
            }
        }
    }

    // MARK: optimizer.cl

    /// Adam (L2 and decoupled decay, with and without a clipping scale), SGD with and without momentum, and the
    /// clipping scale itself.
    func optimizer() throws {
        let n = 1003
        let parameters = values(n), gradients = values(n), m0 = values(n, -0.1, 0.1), v0 = values(n, 0, 0.01)
        try compare("adam_update, sgd_update, clip_scale", atol: 1e-5) { device in
            let scale = try device.view([Float(0)])
            device.clipScale(squaredNorm: try device.view([Float(9)]), maxNorm: 2, into: scale)
            var outputs: [BufferSlice] = [scale]
            for (decoupled, clipped) in [(false, false), (true, true)] {
                let p = try device.view(parameters), m = try device.view(m0), v = try device.view(v0)
                device.adamUpdate(parameters: p, gradients: try device.view(gradients), m: m, v: v, step: 3,
                                  hyper: AdamParameters(learningRate: 1e-2, weightDecay: 0.01, decoupled: decoupled),
                                  gradientScale: clipped ? scale : nil)
                outputs += [p, m, v]
            }
            for momentum in [Float(0), 0.9] {
                let p = try device.view(parameters), velocity = try device.view(m0)
                device.sgdUpdate(parameters: p, gradients: try device.view(gradients), velocity: momentum > 0 ? velocity : nil,
                                 learningRate: 0.1, momentum: momentum, weightDecay: 0.01, gradientScale: scale)
                outputs += [p, velocity]
            }
            return outputs.map { device.readAll($0) }
        }
    }

    // MARK: quantize.cl

    /// Nearest codes with their distances, and row scatters with counts, accumulated or not.
    func quantization() throws {
        let (n, k, d) = (37, 19, 5)
        let z = values(n * d), codebook = values(k * d)
        try compare("nearest_code", atol: 1e-5) { device in
            let codes = try device.view([Int32](repeating: 0, count: n)), distances = try device.view(values(n))
            device.nearestCode(try device.view(z), codebook: try device.view(codebook), n: n, k: k, d: d,
                               codes: codes, distances: distances)
            return [device.readInts(codes.buffer.whole).map(Float.init), device.readAll(distances)]
        }
        let indices = (0..<n).map { Int32(($0 * 7) % k) }
        for accumulate in [false, true] {
            try compare("scatter_add_rows accumulate \(accumulate)", atol: 1e-5) { device in
                let y = try device.view(values(k * d)), counts = try device.view(values(k))
                device.scatterAddRows(try device.view(z), indices: try device.view(indices), n: n, cols: d, into: y, rows: k,
                                      counts: counts, accumulate: accumulate)
                return [device.readAll(y), device.readAll(counts)]
            }
        }
    }

    // MARK: norm.cl

    /// Batch norm in training (statistics over more positions than its work group, and over one position per
    /// channel) and evaluation, and its backward pass.
    func normalization() throws {
        for (n, channels, spatial) in [(5, 3, 77), (13, 7, 1)] {
            let count = n * channels * spatial
            let x = values(count, -2, 3), dy = values(count), gamma = values(channels, 0.5, 1.5), beta = values(channels)
            let running = values(channels, 0, 1)
            for training in [true, false] {
                try compare("batch norm \(n)x\(channels)x\(spatial) training \(training)", atol: 1e-4) { device in
                    let mean = try device.view(running), variance = try device.view(running.map { $0 + 0.5 })
                    let savedMean = try device.view(values(channels)), savedInvStd = try device.view(values(channels))
                    let y = try device.view(values(count)), input = try device.view(x), g = try device.view(gamma)
                    device.batchNormForward(input, gamma: g, beta: try device.view(beta), runningMean: mean,
                                            runningVar: variance, savedMean: savedMean, savedInvStd: savedInvStd, into: y,
                                            n: n, channels: channels, spatial: spatial, momentum: 0.1, epsilon: 1e-5,
                                            training: training)
                    var outputs = [y, mean, variance]
                    if training {
                        let dx = try device.view(values(count)), dgamma = try device.view(values(channels))
                        let dbeta = try device.view(values(channels))
                        device.batchNormBackward(try device.view(dy), x: input, gamma: g, savedMean: savedMean,
                                                 savedInvStd: savedInvStd, dx: dx, dgamma: dgamma, dbeta: dbeta,
                                                 n: n, channels: channels, spatial: spatial)
                        outputs += [savedMean, savedInvStd, dx, dgamma, dbeta]
                    }
                    return outputs.map { device.readAll($0) }
                }
            }
        }
    }

    // MARK: tensor.cl

    /// Affine maps, threshold masks, row scaling (multiplied and divided, accumulated or not) and fills.
    func tensor() throws {
        let (rows, cols) = (37, 29)
        let x = values(rows * cols), s = values(rows, 0.5, 2)
        try compare("tensor_affine, tensor_threshold_mask, tensor_scale_rows, fill", atol: 1e-5) { device in
            let input = try device.view(x), affine = try device.view(x), mask = try device.view(x)
            device.affine(input, scale: -2, shift: 1, into: affine)
            device.thresholdMask(input, threshold: 0.25, into: mask)
            let divided = try device.view(x), multiplied = try device.view(x)
            device.scaleRows(input, by: try device.view(s), rows: rows, cols: cols, divide: true, into: divided, accumulate: true)
            device.scaleRows(input, by: try device.view(s), rows: rows, cols: cols, divide: false, into: multiplied,
                             accumulate: false)
            let filled = try device.view(x)
            device.fill(filled, with: 3.5)
            return [affine, mask, divided, multiplied, filled].map { device.readAll($0) }
        }
    }
}
