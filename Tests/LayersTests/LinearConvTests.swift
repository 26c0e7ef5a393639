import Compute
import Foundation
import Layers
import Testing
import TestSupport

@Suite struct LinearTests {
    @Test(arguments: TestDevices.selectors)
    func forwardMatchesReference(selector: String) throws {
        let device = try TestDevices.device(selector)
        for (inShape, batch) in [([7], 5), ([3, 6], 2), ([1], 1)] {
            let inFeatures = inShape.last!, rows = batch * inShape.reduce(1, *) / inFeatures
            let h = try LayerHarness(Linear(inFeatures, 9), device: device, inputShape: inShape, batch: batch)
            var rng = TestRandom(seed: 5)
            let x = rng.array(h.input.count)
            let expected = Reference.linear(x, weight: try h.read("weight"), bias: try h.read("bias"),
                                            rows: rows, inFeatures: inFeatures, outFeatures: 9)
            #expect(mismatch(h.forward(x), expected) == nil, "\(selector) \(inShape)×\(batch)")
        }
    }

    @Test func initializationFollowsPyTorch() throws {
        let h = try LayerHarness(Linear(64, 32), device: TestDevices.device("cpu"), inputShape: [64], batch: 1)
        let w = try h.read("weight"), b = try h.read("bias"), bound: Float = 1 / 8
        #expect(w.allSatisfy { abs($0) <= bound } && b.allSatisfy { abs($0) <= bound })
        // A uniform on ±1/8 has standard deviation 1/(8√3) ≈ 0.072.
        let std = (w.reduce(0) { $0 + Double($1 * $1) } / Double(w.count)).squareRoot()
        #expect(abs(std - 0.0722) < 0.006, "weight std \(std)")
        #expect(h.store.entries.map(\.name) == ["weight", "bias"])
        #expect(h.store.entries.map(\.shape) == [[32, 64], [32]])
    }

    @Test func initializationIsIdenticalAcrossDevices() throws {
        var values: [[Float]] = []
        for selector in TestDevices.selectors {
            let h = try LayerHarness(Linear(13, 6), device: TestDevices.device(selector), inputShape: [13], batch: 1, seed: 42)
            values.append(h.device.read(h.store.values))
        }
        for other in values.dropFirst() { #expect(mismatch(other, doubles(values[0]), rtol: 0, atol: 1e-7) == nil) }
    }

    @Test(arguments: TestDevices.selectors)
    func gradients(selector: String) throws {
        try checkGradients(selector: selector, make: { Linear(6, 4) }, inputShape: [6], batch: 3)
        try checkGradients(selector: selector, make: { Linear(5, 3, bias: false) }, inputShape: [2, 5], batch: 2)
    }

    @Test func rejectsWrongShapes() throws {
        #expect(throws: LayerError.self) { try Linear(4, 2).outputShape(for: [5]) }
        #expect(throws: LayerError.self) { try Linear(4, 2).outputShape(for: []) }
        #expect(try Linear(4, 2).outputShape(for: [3, 4]) == [3, 2])
        do {
            _ = try Linear(4, 2).outputShape(for: [5])
            Issue.record("no error for a 5-feature input")
        } catch {
            #expect("\(error)".hasPrefix("Linear(4→2)") && !"\(error)".contains("\n"), "\(error)")
        }
    }
}

@Suite struct ConvolutionLayerTests {
    /// (C, H, W, O, k, s, p)
    static let shapes: [(Int, Int, Int, Int, (Int, Int), (Int, Int), (Int, Int))] = [
        (2, 7, 6, 3, (3, 3), (1, 1), (1, 1)),
        (3, 8, 9, 4, (3, 2), (2, 2), (1, 0)),
        (1, 5, 5, 2, (1, 1), (1, 1), (0, 0)),
    ]

    @Test(arguments: TestDevices.selectors)
    func conv2dForward(selector: String) throws {
        let device = try TestDevices.device(selector)
        for (c, hh, ww, o, k, s, p) in Self.shapes {
            let h = try LayerHarness(Conv2d(c, o, kernelSize: k, stride: s, padding: p), device: device,
                                     inputShape: [c, hh, ww], batch: 2)
            var rng = TestRandom(seed: 8)
            let x = rng.array(h.input.count)
            let expected = Reference.conv2d(x, weight: try h.read("weight"), bias: try h.read("bias"),
                                            n: 2, c: c, h: hh, w: ww, o: o, k: k, s: s, p: p)
            #expect(mismatch(h.forward(x), expected) == nil, "\(selector) conv \(c)×\(hh)×\(ww)→\(o)")
            #expect(h.store.entries.map(\.shape) == [[o, c, k.0, k.1], [o]])
        }
    }

    @Test(arguments: TestDevices.selectors)
    func conv2dGradients(selector: String) throws {
        try checkGradients(selector: selector, make: { Conv2d(2, 3, kernelSize: 3, stride: 2, padding: 1) },
                           inputShape: [2, 5, 6], batch: 2)
        try checkGradients(selector: selector, make: { Conv2d(1, 2, kernelSize: (2, 3), bias: false) },
                           inputShape: [1, 4, 5], batch: 1)
    }

    @Test(arguments: TestDevices.selectors)
    func convTransposeForward(selector: String) throws {
        let device = try TestDevices.device(selector)
        // (Cin, H, W, Cout, k, s, p, op)
        let cases: [(Int, Int, Int, Int, (Int, Int), (Int, Int), (Int, Int), (Int, Int))] = [
            (3, 4, 4, 2, (3, 3), (2, 2), (1, 1), (1, 1)),
            (2, 3, 5, 3, (4, 3), (2, 1), (1, 0), (0, 0)),
            (1, 2, 2, 1, (2, 2), (2, 2), (0, 0), (1, 0)),
        ]
        for (c, hh, ww, o, k, s, p, op) in cases {
            let layer = ConvTranspose2d(c, o, kernelSize: k, stride: s, padding: p, outputPadding: op)
            let h = try LayerHarness(layer, device: device, inputShape: [c, hh, ww], batch: 2)
            var rng = TestRandom(seed: 9)
            let x = rng.array(h.input.count)
            let expected = Reference.convTranspose2d(x, weight: try h.read("weight"), bias: try h.read("bias"),
                                                     n: 2, c: c, h: hh, w: ww, o: o, k: k, s: s, p: p, op: op)
            #expect(try layer.outputShape(for: [c, hh, ww]) ==
                    [o, (hh - 1) * s.0 - 2 * p.0 + k.0 + op.0, (ww - 1) * s.1 - 2 * p.1 + k.1 + op.1])
            #expect(mismatch(h.forward(x), expected) == nil, "\(selector) convT \(c)×\(hh)×\(ww)→\(o)")
            #expect(h.store.entries.map(\.shape) == [[c, o, k.0, k.1], [o]])
        }
    }

    @Test func convTransposeInitUsesDimensionOneFanIn() throws {
        // fan_in = out·kh·kw = 2·3·3 = 18 (PyTorch reads dimension 1 of the [in, out, kh, kw] weight).
        let h = try LayerHarness(ConvTranspose2d(40, 2, kernelSize: 3), device: TestDevices.device("cpu"),
                                 inputShape: [40, 2, 2], batch: 1)
        let w = try h.read("weight"), bound = 1 / Float(18).squareRoot()
        #expect(w.allSatisfy { abs($0) <= bound })
        #expect((w.map(abs).max() ?? 0) > 0.9 * bound)
    }

    @Test(arguments: TestDevices.selectors)
    func convTransposeGradients(selector: String) throws {
        try checkGradients(selector: selector, make: { ConvTranspose2d(2, 3, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1) },
                           inputShape: [2, 3, 4], batch: 2)
        try checkGradients(selector: selector, make: { ConvTranspose2d(3, 1, kernelSize: (2, 3), bias: false) },
                           inputShape: [3, 3, 2], batch: 1)
    }

    @Test func rejectsImpossibleShapes() {
        #expect(throws: LayerError.self) { try Conv2d(3, 4, kernelSize: 3).outputShape(for: [2, 8, 8]) }
        #expect(throws: LayerError.self) { try Conv2d(1, 4, kernelSize: 5).outputShape(for: [1, 3, 3]) }
        #expect(throws: LayerError.self) { try ConvTranspose2d(1, 1, kernelSize: 3, stride: 2, outputPadding: 2).outputShape(for: [1, 3, 3]) }
        #expect(throws: LayerError.self) { try ConvTranspose2d(1, 1, kernelSize: 1, padding: 2).outputShape(for: [1, 2, 2]) }
    }
}
