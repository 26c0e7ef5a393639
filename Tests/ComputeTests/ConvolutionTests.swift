@testable import Compute
import Foundation
import Testing
import TestSupport

/// Calls `body(xIndex, wIndex, yIndex)` for every product x·w that feeds an output of the convolution
/// y[n,o,i,j] = Σ_{c,u,v} w[o,c,u,v] · x[n,c, i·s−p+u, j·s−p+v], taps in the zero padding skipped.
/// Every reference below is built on this one loop, written in the forward (scatter) direction.
func forEachConvTap(_ g: ConvGeometry, _ body: (Int, Int, Int) -> Void) {
    let (ho, wo) = (g.outHeight, g.outWidth)
    for n in 0..<g.batch {
        for o in 0..<g.outChannels {
            for i in 0..<ho {
                for j in 0..<wo {
                    let yIndex = ((n * g.outChannels + o) * ho + i) * wo + j
                    for c in 0..<g.inChannels {
                        for u in 0..<g.kernelHeight {
                            let h = i * g.strideH - g.padH + u
                            guard h >= 0 && h < g.inHeight else { continue }
                            for v in 0..<g.kernelWidth {
                                let w = j * g.strideW - g.padW + v
                                guard w >= 0 && w < g.inWidth else { continue }
                                body(((n * g.inChannels + c) * g.inHeight + h) * g.inWidth + w,
                                     ((o * g.inChannels + c) * g.kernelHeight + u) * g.kernelWidth + v, yIndex)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Pre-activation output Σ w·x + bias, in double precision.
func referenceConvForward(_ x: [Double], _ w: [Double], bias: [Double]?, _ g: ConvGeometry) -> [Double] {
    var y = [Double](repeating: 0, count: g.outputCount)
    if let bias {
        let plane = g.outHeight * g.outWidth
        for index in y.indices { y[index] = bias[(index / plane) % g.outChannels] }
    }
    forEachConvTap(g) { xi, wi, yi in y[yi] += w[wi] * x[xi] }
    return y
}

/// ∂L/∂x = Σ over the taps that read x of w·dy.
func referenceConvBackwardInput(_ dy: [Double], _ w: [Double], _ g: ConvGeometry) -> [Double] {
    var dx = [Double](repeating: 0, count: g.inputCount)
    forEachConvTap(g) { xi, wi, yi in dx[xi] += w[wi] * dy[yi] }
    return dx
}

/// ∂L/∂w = Σ over the taps that use w of x·dy.
func referenceConvBackwardWeight(_ x: [Double], _ dy: [Double], _ g: ConvGeometry) -> [Double] {
    var dw = [Double](repeating: 0, count: g.weightCount)
    forEachConvTap(g) { xi, wi, yi in dw[wi] += x[xi] * dy[yi] }
    return dw
}

/// ∂L/∂bias[o] = Σ_{n,i,j} dy[n,o,i,j].
func referenceConvBackwardBias(_ dy: [Double], _ g: ConvGeometry) -> [Double] {
    var db = [Double](repeating: 0, count: g.outChannels)
    let plane = g.outHeight * g.outWidth
    for index in dy.indices { db[(index / plane) % g.outChannels] += dy[index] }
    return db
}

/// A named geometry to test.
struct ConvCase: Sendable, CustomStringConvertible {
    var name: String
    var geometry: ConvGeometry
    var description: String { name }
}

/// A view of `values` placed at offset 3 inside a buffer padded with `sentinel` on both sides, so that
/// offsets are exercised and stray writes show.
func uploadPadded(_ device: any Device, _ values: [Float], sentinel: Float = 1234) throws -> BufferSlice {
    let buffer = try device.makeBuffer([sentinel, sentinel, sentinel] + values + [sentinel, sentinel])
    return buffer.slice(3, values.count)
}

/// True when the padding around a view made by ``uploadPadded`` still holds the sentinel.
func paddingIntact(_ device: any Device, _ slice: BufferSlice, sentinel: Float = 1234) -> Bool {
    let all = device.read(slice.buffer.whole)
    return Array(all[..<3]) == [sentinel, sentinel, sentinel] && Array(all[(3 + slice.count)...]) == [sentinel, sentinel]
}

@Suite struct ConvolutionTests {
    static let cases: [ConvCase] = [
        ConvCase(name: "conv-vae 1→32 k4 s2 p1 28×28, batch 3", geometry: ConvGeometry(
            batch: 3, inChannels: 1, inHeight: 28, inWidth: 28, outChannels: 32, kernel: (4, 4), stride: (2, 2), padding: (1, 1))),
        ConvCase(name: "conv-vae 32→64 k4 s2 p1 14×14, batch 2", geometry: ConvGeometry(
            batch: 2, inChannels: 32, inHeight: 14, inWidth: 14, outChannels: 64, kernel: (4, 4), stride: (2, 2), padding: (1, 1))),
        ConvCase(name: "digits 1→8 k3 s1 p1 8×8, batch 3", geometry: ConvGeometry(
            batch: 3, inChannels: 1, inHeight: 8, inWidth: 8, outChannels: 8, kernel: (3, 3), padding: (1, 1))),
        ConvCase(name: "3→5 k3 s1 p0 9×11, batch 1", geometry: ConvGeometry(
            batch: 1, inChannels: 3, inHeight: 9, inWidth: 11, outChannels: 5, kernel: (3, 3))),
        ConvCase(name: "2→3 k(3,2) s(2,1) p(1,0) 7×6, batch 3", geometry: ConvGeometry(
            batch: 3, inChannels: 2, inHeight: 7, inWidth: 6, outChannels: 3, kernel: (3, 2), stride: (2, 1), padding: (1, 0))),
        ConvCase(name: "2→4 k5 s3 p2 10×7, batch 3", geometry: ConvGeometry(
            batch: 3, inChannels: 2, inHeight: 10, inWidth: 7, outChannels: 4, kernel: (5, 5), stride: (3, 3), padding: (2, 2))),
        ConvCase(name: "4→6 k1 5×5, batch 2", geometry: ConvGeometry(
            batch: 2, inChannels: 4, inHeight: 5, inWidth: 5, outChannels: 6, kernel: (1, 1))),
        // a window wider than the image: each patch row clipped on both sides at once
        ConvCase(name: "2→3 k5 s1 p2 3×3, batch 2", geometry: ConvGeometry(
            batch: 2, inChannels: 2, inHeight: 3, inWidth: 3, outChannels: 3, kernel: (5, 5), stride: (1, 1), padding: (2, 2))),
        // enough samples that the CPU backend groups several per product (≈ 512 patch rows each)
        ConvCase(name: "1→8 k4 s2 p1 8×8, batch 37", geometry: ConvGeometry(
            batch: 37, inChannels: 1, inHeight: 8, inWidth: 8, outChannels: 8, kernel: (4, 4), stride: (2, 2), padding: (1, 1))),
        ConvCase(name: "3→4 k3 s1 p1 6×6, batch 50", geometry: ConvGeometry(
            batch: 50, inChannels: 3, inHeight: 6, inWidth: 6, outChannels: 4, kernel: (3, 3), stride: (1, 1), padding: (1, 1))),
    ] + tileEdgeCases

    /// Shapes for the edges of the OpenCL register-blocked tiles (32 to 64 rows, 64 to 128 columns, 8- or
    /// 16-deep slices): rows and columns not multiples of a tile, reductions of 1 and of 512, stride phases
    /// that no tap reaches, and the conv VAE's layers at a small batch.
    static let tileEdgeCases: [ConvCase] = [
        // 64 channels, K = 32·16 = 512, 5·49 = 245 positions and 5·(7·7) pixels per stride phase
        ConvCase(name: "conv-vae 32→64 k4 s2 p1 14×14, batch 5", geometry: ConvGeometry(
            batch: 5, inChannels: 32, inHeight: 14, inWidth: 14, outChannels: 64, kernel: (4, 4), stride: (2, 2), padding: (1, 1))),
        // the decoder's last ConvTranspose(32→1) runs as this geometry's input gradient (C = 1)
        ConvCase(name: "conv-vae 1→32 k4 s2 p1 28×28, batch 5", geometry: ConvGeometry(
            batch: 5, inChannels: 1, inHeight: 28, inWidth: 28, outChannels: 32, kernel: (4, 4), stride: (2, 2), padding: (1, 1))),
        ConvCase(name: "6→37 k3 s1 p1 9×9, batch 2", geometry: ConvGeometry(
            batch: 2, inChannels: 6, inHeight: 9, inWidth: 9, outChannels: 37, kernel: (3, 3), padding: (1, 1))),
        ConvCase(name: "70→5 k(2,3) s1 p0 5×6, batch 3", geometry: ConvGeometry(
            batch: 3, inChannels: 70, inHeight: 5, inWidth: 6, outChannels: 5, kernel: (2, 3))),
        // K = 1
        ConvCase(name: "1→5 k1 7×7, batch 1", geometry: ConvGeometry(
            batch: 1, inChannels: 1, inHeight: 7, inWidth: 7, outChannels: 5, kernel: (1, 1))),
        // stride 3 with a 1×1 kernel: 8 of the 9 stride phases have no tap, their dx is 0
        ConvCase(name: "5→6 k1 s3 10×10, batch 2", geometry: ConvGeometry(
            batch: 2, inChannels: 5, inHeight: 10, inWidth: 10, outChannels: 6, kernel: (1, 1), stride: (3, 3))),
        ConvCase(name: "6→9 k(5,4) s(3,2) p(2,1) 11×9, batch 2", geometry: ConvGeometry(
            batch: 2, inChannels: 6, inHeight: 11, inWidth: 9, outChannels: 9, kernel: (5, 4), stride: (3, 2), padding: (2, 1))),
        // a window larger than the image, stride 2
        ConvCase(name: "5→7 k5 s2 p2 3×4, batch 2", geometry: ConvGeometry(
            batch: 2, inChannels: 5, inHeight: 3, inWidth: 4, outChannels: 7, kernel: (5, 5), stride: (2, 2), padding: (2, 2))),
    ]

    /// Forward variants: with or without the bias, and the epilogue activation.
    static let variants: [(bias: Bool, activation: Activation)] = [
        (false, .identity), (true, .identity), (true, .leakyRelu(slope: 0.1)), (false, .tanh), (true, .relu),
    ]

    static func apply(_ activation: Activation, _ v: Double) -> Double {
        switch activation {
        case .identity: return v
        case .relu: return max(v, 0)
        case .leakyRelu(let slope): return v > 0 ? v : Double(slope) * v
        case .tanh: return Foundation.tanh(v)
        default: preconditionFailure("no reference for \(activation)")
        }
    }

    @Test(arguments: TestDevices.selectors, cases)
    func forwardMatchesReference(selector: String, testCase: ConvCase) throws {
        let device = try TestDevices.device(selector)
        let g = testCase.geometry
        #expect(g.isValid)
        var rng = TestRandom(seed: 11)
        let x = rng.array(g.inputCount), w = rng.array(g.weightCount, -0.5, 0.5), bias = rng.array(g.outChannels)
        let dx = try uploadPadded(device, x), dw = try uploadPadded(device, w), dbias = try uploadPadded(device, bias)
        let plain = referenceConvForward(doubles(x), doubles(w), bias: nil, g)
        let plane = g.outHeight * g.outWidth
        for variant in Self.variants {
            let y = try uploadPadded(device, [Float](repeating: .nan, count: g.outputCount))
            device.conv2dForward(dx, weight: dw, bias: variant.bias ? dbias : nil, into: y, geometry: g,
                                 activation: variant.activation)
            let expected = plain.indices.map { index in
                Self.apply(variant.activation, plain[index] + (variant.bias ? Double(bias[(index / plane) % g.outChannels]) : 0))
            }
            let label = "\(selector) \(testCase) \(variant.activation) bias \(variant.bias)"
            #expect(mismatch(device.read(y), expected, atol: 1e-4) == nil, "\(label)")
            #expect(paddingIntact(device, y), "\(label) wrote outside y")
        }
        try device.checkHealth()
    }

    @Test(arguments: TestDevices.selectors, cases)
    func backwardMatchesReference(selector: String, testCase: ConvCase) throws {
        let device = try TestDevices.device(selector)
        let g = testCase.geometry
        var rng = TestRandom(seed: 23)
        let x = rng.array(g.inputCount), w = rng.array(g.weightCount, -0.5, 0.5), dy = rng.array(g.outputCount)
        let bx = try uploadPadded(device, x), bw = try uploadPadded(device, w), bdy = try uploadPadded(device, dy)
        let dxRef = referenceConvBackwardInput(doubles(dy), doubles(w), g)
        let dwRef = referenceConvBackwardWeight(doubles(x), doubles(dy), g)
        let dbRef = referenceConvBackwardBias(doubles(dy), g)
        for accumulate in [false, true] {
            // Without accumulate the old contents (NaN) must be ignored; with it they are added to.
            func start(_ count: Int) -> [Float] { accumulate ? rng.array(count) : [Float](repeating: .nan, count: count) }
            func expected(_ old: [Float], _ gradient: [Double]) -> [Double] {
                accumulate ? zip(old, gradient).map { Double($0) + $1 } : gradient
            }
            let dx0 = start(g.inputCount), dw0 = start(g.weightCount), db0 = start(g.outChannels)
            let bdx = try uploadPadded(device, dx0), bdw = try uploadPadded(device, dw0), bdb = try uploadPadded(device, db0)
            device.conv2dBackwardInput(bdy, weight: bw, into: bdx, geometry: g, accumulate: accumulate)
            device.conv2dBackwardWeight(bx, bdy, into: bdw, geometry: g, accumulate: accumulate)
            device.conv2dBackwardBias(bdy, into: bdb, geometry: g, accumulate: accumulate)
            let label = "\(selector) \(testCase) accumulate \(accumulate)"
            #expect(mismatch(device.read(bdx), expected(dx0, dxRef), atol: 1e-4) == nil, "dx \(label)")
            #expect(mismatch(device.read(bdw), expected(dw0, dwRef), atol: 2e-4) == nil, "dw \(label)")
            #expect(mismatch(device.read(bdb), expected(db0, dbRef), atol: 2e-4) == nil, "dbias \(label)")
            #expect(paddingIntact(device, bdx) && paddingIntact(device, bdw) && paddingIntact(device, bdb), "\(label) wrote outside")
        }
        try device.checkHealth()
    }

    /// The backward primitives against central differences of L = Σ y·g, y the double-precision forward.
    @Test(arguments: TestDevices.selectors)
    func gradientsMatchFiniteDifferences(selector: String) throws {
        let device = try TestDevices.device(selector)
        let g = ConvGeometry(batch: 2, inChannels: 2, inHeight: 5, inWidth: 4, outChannels: 3,
                             kernel: (3, 2), stride: (2, 1), padding: (1, 1))
        var rng = TestRandom(seed: 5)
        let x = rng.array(g.inputCount), w = rng.array(g.weightCount), bias = rng.array(g.outChannels)
        let dy = rng.array(g.outputCount)
        let upstream = doubles(dy)
        func loss(_ x: [Double], _ w: [Double], _ bias: [Double]) -> Double {
            zip(referenceConvForward(x, w, bias: bias, g), upstream).reduce(0) { $0 + $1.0 * $1.1 }
        }
        func centralDifferences(_ values: [Float], _ evaluate: ([Double]) -> Double) -> [Double] {
            let eps = 1e-3
            return values.indices.map { index in
                var plus = doubles(values), minus = doubles(values)
                plus[index] += eps
                minus[index] -= eps
                return (evaluate(plus) - evaluate(minus)) / (2 * eps)
            }
        }
        let fdX = centralDifferences(x) { loss($0, doubles(w), doubles(bias)) }
        let fdW = centralDifferences(w) { loss(doubles(x), $0, doubles(bias)) }
        let fdB = centralDifferences(bias) { loss(doubles(x), doubles(w), $0) }

        let bx = try device.makeBuffer(x), bw = try device.makeBuffer(w), bdy = try device.makeBuffer(dy)
        let dx = try device.makeBuffer(count: g.inputCount, dtype: .float32)
        let dw = try device.makeBuffer(count: g.weightCount, dtype: .float32)
        let db = try device.makeBuffer(count: g.outChannels, dtype: .float32)
        device.conv2dBackwardInput(bdy.whole, weight: bw.whole, into: dx.whole, geometry: g, accumulate: false)
        device.conv2dBackwardWeight(bx.whole, bdy.whole, into: dw.whole, geometry: g, accumulate: false)
        device.conv2dBackwardBias(bdy.whole, into: db.whole, geometry: g, accumulate: false)
        #expect(mismatch(device.read(dx.whole), fdX, rtol: 1e-3, atol: 1e-4) == nil, "dx \(selector)")
        #expect(mismatch(device.read(dw.whole), fdW, rtol: 1e-3, atol: 1e-4) == nil, "dw \(selector)")
        #expect(mismatch(device.read(db.whole), fdB, rtol: 1e-3, atol: 1e-4) == nil, "dbias \(selector)")
        try device.checkHealth()
    }

    /// ConvTranspose2d(Ci→Co, k4, s2, p1) on 7×7 via the convolution primitives, against PyTorch's definition
    /// y[n, o, i·s−p+u, j·s−p+v] += x[n, c, i, j] · w[c, o, u, v] (w is Ci×Co×4×4).
    @Test(arguments: TestDevices.selectors)
    func transposedConvolutionUsesTheSamePrimitives(selector: String) throws {
        let device = try TestDevices.device(selector)
        let (batch, ci, co, hi, k, s, p) = (2, 3, 5, 7, 4, 2, 1)
        let ho = (hi - 1) * s - 2 * p + k
        #expect(ho == 14)
        // The convolution whose input gradient is the transposed convolution: input Co×14×14, output Ci×7×7.
        let g = ConvGeometry(batch: batch, inChannels: co, inHeight: ho, inWidth: ho, outChannels: ci,
                             kernel: (k, k), stride: (s, s), padding: (p, p))
        #expect(g.outHeight == hi && g.outWidth == hi)
        #expect(g == ConvGeometry.transposed(batch: batch, inChannels: ci, inHeight: hi, inWidth: hi, outChannels: co,
                                             kernel: (k, k), stride: (s, s), padding: (p, p)))
        var rng = TestRandom(seed: 41)
        let x = rng.array(batch * ci * hi * hi), w = rng.array(ci * co * k * k), dy = rng.array(batch * co * ho * ho)

        // Direct double-precision references from the transposed definition.
        var yRef = [Double](repeating: 0, count: batch * co * ho * ho)
        var dxRef = [Double](repeating: 0, count: x.count)
        var dwRef = [Double](repeating: 0, count: w.count)
        for n in 0..<batch {
            for c in 0..<ci {
                for i in 0..<hi {
                    for j in 0..<hi {
                        let xi = ((n * ci + c) * hi + i) * hi + j
                        for o in 0..<co {
                            for u in 0..<k {
                                let r = i * s - p + u
                                guard r >= 0 && r < ho else { continue }
                                for v in 0..<k {
                                    let q = j * s - p + v
                                    guard q >= 0 && q < ho else { continue }
                                    let yi = ((n * co + o) * ho + r) * ho + q, wi = ((c * co + o) * k + u) * k + v
                                    yRef[yi] += Double(x[xi]) * Double(w[wi])
                                    dxRef[xi] += Double(dy[yi]) * Double(w[wi])
                                    dwRef[wi] += Double(dy[yi]) * Double(x[xi])
                                }
                            }
                        }
                    }
                }
            }
        }

        let bx = try uploadPadded(device, x), bw = try uploadPadded(device, w), bdy = try uploadPadded(device, dy)
        let y = try uploadPadded(device, [Float](repeating: .nan, count: yRef.count))
        let dx = try uploadPadded(device, [Float](repeating: .nan, count: x.count))
        let dw = try uploadPadded(device, [Float](repeating: .nan, count: w.count))
        device.conv2dBackwardInput(bx, weight: bw, into: y, geometry: g, accumulate: false)
        device.conv2dForward(bdy, weight: bw, bias: nil, into: dx, geometry: g, activation: .identity)
        device.conv2dBackwardWeight(bdy, bx, into: dw, geometry: g, accumulate: false)
        #expect(mismatch(device.read(y), yRef, atol: 1e-4) == nil, "forward \(selector)")
        #expect(mismatch(device.read(dx), dxRef, atol: 1e-4) == nil, "input gradient \(selector)")
        #expect(mismatch(device.read(dw), dwRef, atol: 2e-4) == nil, "weight gradient \(selector)")

        // The bias gradient (Co channels) through a 1×1 geometry whose output has the shape of y.
        let biasShape = ConvGeometry(batch: batch, inChannels: 1, inHeight: ho, inWidth: ho, outChannels: co, kernel: (1, 1))
        let db = try uploadPadded(device, [Float](repeating: .nan, count: co))
        device.conv2dBackwardBias(bdy, into: db, geometry: biasShape, accumulate: false)
        var dbRef = [Double](repeating: 0, count: co)
        for index in dy.indices { dbRef[(index / (ho * ho)) % co] += Double(dy[index]) }
        #expect(mismatch(device.read(db), dbRef, atol: 2e-4) == nil, "bias gradient \(selector)")
        try device.checkHealth()
    }

    /// Every kernel of every pass with every tiling preset on the first OpenCL device (PoCL here), so the
    /// NVIDIA tiles are checked even where no NVIDIA GPU is: forward simple and blocked (bias, leaky ReLU),
    /// input gradient simple and blocked, weight gradient whole and split into 2 and 3 ranges (accumulating).
    @Test(arguments: ["nvidia", "gpu", "cpu"])
    func everyKernelAndTilingMatchesReference(tilingName: String) throws {
        try Self.onEveryTileCase(tilingName: tilingName) { device, tiling, testCase in
            let g = testCase.geometry
            var rng = TestRandom(seed: 31)
            let x = rng.array(g.inputCount), w = rng.array(g.weightCount, -0.5, 0.5), bias = rng.array(g.outChannels)
            let dy = rng.array(g.outputCount), dx0 = rng.array(g.inputCount), dw0 = rng.array(g.weightCount)
            let bx = try uploadPadded(device, x), bw = try uploadPadded(device, w), bb = try uploadPadded(device, bias)
            let bdy = try uploadPadded(device, dy)
            let plane = g.outHeight * g.outWidth
            let yRef = referenceConvForward(doubles(x), doubles(w), bias: doubles(bias), g).map { $0 > 0 ? $0 : 0.1 * $0 }
            let dxRef = zip(dx0, referenceConvBackwardInput(doubles(dy), doubles(w), g)).map { Double($0) + $1 }
            let dwRef = zip(dw0, referenceConvBackwardWeight(doubles(x), doubles(dy), g)).map { Double($0) + $1 }
            for plan in [ConvPlan.simple, .blocked] {
                let y = try uploadPadded(device, [Float](repeating: .nan, count: g.outputCount))
                device.conv2dForward(bx, weight: bw, into: y, geometry: g,
                                     epilogue: ProductEpilogue(bias: bb, activation: .leakyRelu(slope: 0.1)), plan: plan)
                #expect(mismatch(device.read(y), yRef, atol: 1e-4) == nil, "\(tilingName) \(plan) forward \(testCase)")
                let dx = try uploadPadded(device, dx0)
                device.conv2dBackwardInput(bdy, weight: bw, into: dx, geometry: g, accumulate: true, epilogue: .none, plan: plan)
                #expect(mismatch(device.read(dx), dxRef, atol: 1e-4) == nil, "\(tilingName) \(plan) dx \(testCase)")
                #expect(paddingIntact(device, y) && paddingIntact(device, dx), "\(tilingName) \(plan) \(testCase) wrote outside")
            }
            let positions = g.batch * plane
            for plan in [ConvPlan.blocked] + [2, 3].map({ ConvPlan.split(positions: positions, into: $0, tileK: tiling.tileK) }) {
                let dw = try uploadPadded(device, dw0)
                device.conv2dBackwardWeight(bx, bdy, into: dw, biasGradient: nil, geometry: g, accumulate: true, plan: plan)
                #expect(mismatch(device.read(dw), dwRef, atol: 2e-4) == nil, "\(tilingName) \(plan) dw \(testCase)")
                #expect(paddingIntact(device, dw), "\(tilingName) \(plan) \(testCase) wrote outside dw")
            }
        }
    }

    /// Runs `check(device, tiling, testCase)` over the tile-edge cases and two larger ones on the first OpenCL device
    /// opened with the convolution tiling preset named; nothing where there is no OpenCL device.
    static func onEveryTileCase(tilingName: String, _ check: (OpenCLDevice, ConvTiling, ConvCase) throws -> Void) throws {
        guard TestDevices.selectors.contains("opencl:0"), let tiling = ConvTiling.presets[tilingName] else { return }
        let device = try OpenCLDevice(index: 0, gemmTiling: nil, convTiling: tiling)
        for testCase in tileEdgeCases + [cases[3], cases[4]] { try check(device, tiling, testCase) }
        try device.checkHealth()
    }

    @Test func planFollowsTheRule() {
        let vae1 = ConvGeometry(batch: 128, inChannels: 1, inHeight: 28, inWidth: 28, outChannels: 32,
                                kernel: (4, 4), stride: (2, 2), padding: (1, 1))
        let vae2 = ConvGeometry(batch: 128, inChannels: 32, inHeight: 14, inWidth: 14, outChannels: 64,
                                kernel: (4, 4), stride: (2, 2), padding: (1, 1))
        // A few rows take the simple kernels; the conv VAE's layers the blocked ones, except the input
        // gradient of its 1-channel layer (the decoder's last ConvTranspose).
        #expect(ConvPlan.forward(vae1) == .blocked && ConvPlan.forward(vae2) == .blocked)
        #expect(ConvPlan.input(vae1) == .simple && ConvPlan.input(vae2) == .blocked)
        var narrow = vae2
        narrow.outChannels = 4
        #expect(ConvPlan.forward(narrow) == .simple)
        // Weight gradients on 132 compute units: 1 tile of 32×128 splits 25088 positions into 64 ranges of 392;
        // 2·4 tiles split 6272 positions into ⌈132/8⌉ = 17 ranges of 376 (369 rounded up to 8-deep slices).
        #expect(ConvPlan.weight(vae1, tiling: .nvidia, computeUnits: 132) == .split(ranges: 64, depth: 392))
        #expect(ConvPlan.weight(vae2, tiling: .nvidia, computeUnits: 132) == .split(ranges: 17, depth: 376))
        // Enough tiles, or too few positions: one range.
        #expect(ConvPlan.weight(vae2, tiling: .nvidia, computeUnits: 8) == .blocked)
        var small = vae1
        small.batch = 2
        #expect(ConvPlan.weight(small, tiling: .nvidia, computeUnits: 132) == .blocked)
        // Ranges are whole slices deep and cover the positions.
        #expect(ConvPlan.split(positions: 1000, into: 3, tileK: 16) == .split(ranges: 3, depth: 336))
        #expect(ConvPlan.split(positions: 1, into: 3, tileK: 8) == .split(ranges: 1, depth: 8))
    }
}
