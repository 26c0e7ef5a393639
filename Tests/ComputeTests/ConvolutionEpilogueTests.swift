@testable import Compute
import Foundation
import Testing
import TestSupport

/// The epilogues of the convolution passes: the input gradient's act(dx + dx_old + bias) ⊙ g′(Y) (a transposed
/// convolution's bias and activation, a convolution's upstream act′), the forward pass's ⊙ g′(Y), and the bias
/// gradient formed beside the weight gradient; on every device, and on every OpenCL kernel and tiling preset.
@Suite struct ConvolutionEpilogueTests {
    /// One epilogue to check: the bias (on the pass's output channels), the activation, the derivative factor's
    /// activation (nil: none) and whether the old contents are added.
    struct Variant: CustomStringConvertible {
        var bias: Bool, activation: Activation, derivative: Activation?, accumulate: Bool
        var description: String { "bias \(bias) \(activation) g′ \(derivative.map { "\($0)" } ?? "none") accumulate \(accumulate)" }
    }

    static let variants: [Variant] = [
        Variant(bias: false, activation: .identity, derivative: .relu, accumulate: false),
        Variant(bias: true, activation: .leakyRelu(slope: 0.1), derivative: .sigmoid, accumulate: true),
        Variant(bias: true, activation: .tanh, derivative: nil, accumulate: false),
        Variant(bias: false, activation: .relu, derivative: .tanh, accumulate: true),
        Variant(bias: true, activation: .identity, derivative: .leakyRelu(slope: 0.2), accumulate: false),
    ]

    /// g′ formed from the activation's output y, in double precision.
    static func derivative(_ activation: Activation, _ y: Float) -> Double {
        let y = Double(y)
        switch activation {
        case .relu: return y > 0 ? 1 : 0
        case .leakyRelu(let slope): return y > 0 ? 1 : Double(slope)
        case .sigmoid: return y * (1 - y)
        case .tanh: return 1 - y * y
        default: preconditionFailure("no reference for \(activation)′")
        }
    }

    /// Outputs Y of `activation` to form g′ from: both signs for ReLU and LeakyReLU, the activation's range otherwise.
    static func outputs(_ activation: Activation, _ count: Int, _ rng: inout TestRandom) -> [Float] {
        switch activation {
        case .sigmoid: return rng.array(count, 0.01, 0.99)
        case .tanh: return rng.array(count, -0.99, 0.99)
        default: return rng.array(count)
        }
    }

    /// result[e] = act(gradient[e] + old[e] (when accumulating) + bias[channel of e]) · g′(Y[e]) over NCHW elements
    /// whose planes have `plane` elements and `channels` channels.
    static func expected(_ gradient: [Double], old: [Float], bias: [Float]?, channels: Int, plane: Int,
                         _ variant: Variant, y: [Float]) -> [Double] {
        gradient.indices.map { e in
            var v = gradient[e] + (variant.accumulate ? Double(old[e]) : 0)
            if let bias { v += Double(bias[(e / max(plane, 1)) % channels]) }
            v = ConvolutionTests.apply(variant.activation, v)
            if let g = variant.derivative { v *= derivative(g, y[e]) }
            return v
        }
    }

    /// Runs the input gradient (`pass(dy, w, dx, bias, derivative)`) with `variant` on views at offsets into larger
    /// buffers; describes a mismatch or a write outside dx.
    static func inputGradientFailure(_ device: any Device, _ g: ConvGeometry, _ variant: Variant, seed: UInt64,
                                     _ pass: (BufferSlice, BufferSlice, BufferSlice, BufferSlice?, ActivationDerivative?) -> Void)
        throws -> String? {
        var rng = TestRandom(seed: seed)
        let w = rng.array(g.weightCount, -0.5, 0.5), dy = rng.array(g.outputCount), bias = rng.array(g.inChannels)
        let old = variant.accumulate ? rng.array(g.inputCount) : [Float](repeating: .nan, count: g.inputCount)
        let y = outputs(variant.derivative ?? .relu, g.inputCount, &rng)
        let bw = try uploadPadded(device, w), bdy = try uploadPadded(device, dy), bb = try uploadPadded(device, bias)
        let by = try uploadPadded(device, y), dx = try uploadPadded(device, old)
        pass(bdy, bw, dx, variant.bias ? bb : nil, variant.derivative.map { ActivationDerivative($0, output: by) })
        let reference = expected(referenceConvBackwardInput(doubles(dy), doubles(w), g), old: old,
                                 bias: variant.bias ? bias : nil, channels: g.inChannels, plane: g.inHeight * g.inWidth,
                                 variant, y: y)
        if !paddingIntact(device, dx) { return "wrote outside dx" }
        return mismatch(device.read(dx), reference, rtol: 1e-4, atol: 1e-4)
    }

    /// Runs the forward pass (`pass(x, w, y, bias, derivative)`, activation from `variant`, which must not
    /// accumulate) on views at offsets; describes a mismatch or a write outside y.
    static func forwardFailure(_ device: any Device, _ g: ConvGeometry, _ variant: Variant, seed: UInt64,
                               _ pass: (BufferSlice, BufferSlice, BufferSlice, BufferSlice?, ActivationDerivative?) -> Void)
        throws -> String? {
        var rng = TestRandom(seed: seed)
        let x = rng.array(g.inputCount), w = rng.array(g.weightCount, -0.5, 0.5), bias = rng.array(g.outChannels)
        let y = outputs(variant.derivative ?? .relu, g.outputCount, &rng)
        let bx = try uploadPadded(device, x), bw = try uploadPadded(device, w), bb = try uploadPadded(device, bias)
        let by = try uploadPadded(device, y), out = try uploadPadded(device, [Float](repeating: .nan, count: g.outputCount))
        pass(bx, bw, out, variant.bias ? bb : nil, variant.derivative.map { ActivationDerivative($0, output: by) })
        let reference = expected(referenceConvForward(doubles(x), doubles(w), bias: nil, g), old: [],
                                 bias: variant.bias ? bias : nil, channels: g.outChannels, plane: g.outHeight * g.outWidth,
                                 variant, y: y)
        if !paddingIntact(device, out) { return "wrote outside y" }
        return mismatch(device.read(out), reference, rtol: 1e-4, atol: 1e-4)
    }

    /// Runs the weight gradient with the bias gradient (`pass(x, dy, dw, db)`) on views at offsets; describes a
    /// mismatch or a write outside dw or db.
    static func weightGradientFailure(_ device: any Device, _ g: ConvGeometry, accumulate: Bool, seed: UInt64,
                                      _ pass: (BufferSlice, BufferSlice, BufferSlice, BufferSlice) -> Void) throws -> String? {
        var rng = TestRandom(seed: seed)
        let x = rng.array(g.inputCount), dy = rng.array(g.outputCount)
        func start(_ count: Int) -> [Float] { accumulate ? rng.array(count) : [Float](repeating: .nan, count: count) }
        let dw0 = start(g.weightCount), db0 = start(g.outChannels)
        let bx = try uploadPadded(device, x), bdy = try uploadPadded(device, dy)
        let dw = try uploadPadded(device, dw0), db = try uploadPadded(device, db0)
        pass(bx, bdy, dw, db)
        func plus(_ old: [Float], _ gradient: [Double]) -> [Double] {
            accumulate ? zip(old, gradient).map { Double($0) + $1 } : gradient
        }
        if !paddingIntact(device, dw) || !paddingIntact(device, db) { return "wrote outside dw or db" }
        if let failure = mismatch(device.read(dw), plus(dw0, referenceConvBackwardWeight(doubles(x), doubles(dy), g)),
                                  rtol: 1e-4, atol: 2e-4) {
            return "dw: \(failure)"
        }
        return mismatch(device.read(db), plus(db0, referenceConvBackwardBias(doubles(dy), g)), rtol: 1e-4, atol: 2e-4)
            .map { "db: \($0)" }
    }

    @Test(arguments: TestDevices.selectors, ConvolutionTests.cases)
    func inputGradientEpilogueMatchesReference(selector: String, testCase: ConvCase) throws {
        let device = try TestDevices.device(selector)
        let g = testCase.geometry
        for (index, variant) in Self.variants.enumerated() {
            let failure = try Self.inputGradientFailure(device, g, variant, seed: UInt64(index)) { dy, w, dx, bias, derivative in
                device.conv2dBackwardInput(dy, weight: w, into: dx, geometry: g, accumulate: variant.accumulate,
                                           epilogue: ProductEpilogue(bias: bias, activation: variant.activation,
                                                                     derivative: derivative))
            }
            #expect(failure == nil, "\(selector) \(testCase) \(variant): \(failure ?? "")")
        }
        try device.checkHealth()
    }

    @Test(arguments: TestDevices.selectors, ConvolutionTests.cases)
    func forwardDerivativeMatchesReference(selector: String, testCase: ConvCase) throws {
        let device = try TestDevices.device(selector)
        let g = testCase.geometry
        for (index, variant) in Self.variants.enumerated() where !variant.accumulate {
            let failure = try Self.forwardFailure(device, g, variant, seed: UInt64(index)) { x, w, y, bias, derivative in
                device.conv2dForward(x, weight: w, into: y, geometry: g,
                                     epilogue: ProductEpilogue(bias: bias, activation: variant.activation, derivative: derivative))
            }
            #expect(failure == nil, "\(selector) \(testCase) \(variant): \(failure ?? "")")
        }
        try device.checkHealth()
    }

    @Test(arguments: TestDevices.selectors, ConvolutionTests.cases)
    func biasGradientBesideWeightGradientMatchesReference(selector: String, testCase: ConvCase) throws {
        let device = try TestDevices.device(selector)
        let g = testCase.geometry
        for accumulate in [false, true] {
            let failure = try Self.weightGradientFailure(device, g, accumulate: accumulate, seed: 7) { x, dy, dw, db in
                device.conv2dBackwardWeight(x, dy, into: dw, biasGradient: db, geometry: g, accumulate: accumulate)
            }
            #expect(failure == nil, "\(selector) \(testCase) accumulate \(accumulate): \(failure ?? "")")
        }
        try device.checkHealth()
    }

    /// Every kernel of every pass with every tiling preset on the first OpenCL device (PoCL here): the forward and
    /// input-gradient epilogues on the simple and blocked kernels, the bias gradient on the whole and split weight
    /// gradient (2 and 3 ranges), accumulating or not.
    @Test(arguments: ["nvidia", "gpu", "cpu"])
    func everyKernelAndTilingMatchesReference(tilingName: String) throws {
        try ConvolutionTests.onEveryTileCase(tilingName: tilingName) { device, tiling, testCase in
            let g = testCase.geometry
            for plan in [ConvPlan.simple, .blocked] {
                for (index, variant) in Self.variants.enumerated() {
                    let input = try Self.inputGradientFailure(device, g, variant, seed: UInt64(index)) { dy, w, dx, bias, derivative in
                        device.conv2dBackwardInput(dy, weight: w, into: dx, geometry: g, accumulate: variant.accumulate,
                                                   epilogue: ProductEpilogue(bias: bias, activation: variant.activation,
                                                                             derivative: derivative),
                                                   plan: plan)
                    }
                    #expect(input == nil, "\(tilingName) \(plan) dx \(testCase) \(variant): \(input ?? "")")
                    guard !variant.accumulate else { continue }
                    let forward = try Self.forwardFailure(device, g, variant, seed: UInt64(index)) { x, w, y, bias, derivative in
                        device.conv2dForward(x, weight: w, into: y, geometry: g,
                                             epilogue: ProductEpilogue(bias: bias, activation: variant.activation,
                                                                       derivative: derivative),
                                             plan: plan)
                    }
                    #expect(forward == nil, "\(tilingName) \(plan) forward \(testCase) \(variant): \(forward ?? "")")
                }
            }
            let positions = g.batch * g.outHeight * g.outWidth
            for plan in [ConvPlan.blocked] + [2, 3].map({ ConvPlan.split(positions: positions, into: $0, tileK: tiling.tileK) }) {
                for accumulate in [false, true] {
                    let failure = try Self.weightGradientFailure(device, g, accumulate: accumulate, seed: 3) { x, dy, dw, db in
                        device.conv2dBackwardWeight(x, dy, into: dw, biasGradient: db, geometry: g, accumulate: accumulate,
                                                    plan: plan)
                    }
                    #expect(failure == nil, "\(tilingName) \(plan) dw, db \(testCase) accumulate \(accumulate): \(failure ?? "")")
                }
            }
        }
    }
}
