import Compute
import Layers
import Testing
import TestSupport

@Suite struct SequentialTests {
    @Test func namesChildrenByIndexLikePyTorch() throws {
        let model = Sequential(Linear(4, 8), ReLU(), Linear(8, 2))
        var layout = ParameterLayout()
        model.declareParameters(in: &layout, prefix: "encoder.")
        #expect(layout.parameters.map(\.name) == ["encoder.0.weight", "encoder.0.bias", "encoder.2.weight", "encoder.2.bias"])
        #expect(layout.parameters.map(\.shape) == [[8, 4], [8], [2, 8], [2]])

        let nested = Sequential(Conv2d(1, 2, kernelSize: 3), BatchNorm2d(2), Sequential(Flatten(), Linear(8, 3)))
        var nestedLayout = ParameterLayout()
        nested.declareParameters(in: &nestedLayout, prefix: "")
        let store = try ParameterStore(device: TestDevices.device("cpu"), layout: nestedLayout)
        #expect(store.entries.map(\.name) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                                              "1.num_batches_tracked", "2.1.weight", "2.1.bias"])
        #expect(store.entries.map(\.offset) == [0, 18, 20, 22, 0, 2, 4, 24, 48])
        #expect(store.parameterCount == 51 && store.stateCount == 5)
        #expect(try nested.outputShape(for: [1, 4, 4]) == [3])
        #expect(throws: LayerError.self) { try store.value(named: "3.weight") }
    }

    @Test func duplicateNamesAreRejected() throws {
        var layout = ParameterLayout()
        Linear(2, 2).declareParameters(in: &layout, prefix: "a.")
        Linear(2, 2).declareParameters(in: &layout, prefix: "a.")
        #expect(throws: LayerError.duplicateName("a.weight")) { try ParameterStore(device: TestDevices.device("cpu"), layout: layout) }
    }

    @Test func shapeErrorsPropagate() {
        #expect(throws: LayerError.self) { try Sequential(Linear(4, 8), Linear(7, 2)).outputShape(for: [4]) }
    }

    /// Fused and unfused chains give the same outputs and gradients (same seed, same parameters).
    @Test(arguments: TestDevices.selectors)
    func fusionIsExact(selector: String) throws {
        let device = try TestDevices.device(selector)
        let builders: [(String, [Int], (Bool) -> Sequential)] = [
            ("mlp", [5], { Sequential(fuse: $0, Linear(5, 7), Tanh(), Linear(7, 6), ReLU(), Linear(6, 4), Sigmoid(),
                                      Linear(4, 3), LeakyReLU(negativeSlope: 0.1), Linear(3, 2), Softplus()) }),
            ("conv", [2, 6, 6], { Sequential(fuse: $0, Conv2d(2, 3, kernelSize: 3, stride: 2, padding: 1), ReLU(),
                                             ConvTranspose2d(3, 2, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1), Tanh(),
                                             Flatten(), Linear(72, 3), Sigmoid()) }),
            ("conv chain", [2, 6, 6], { Sequential(fuse: $0, Conv2d(2, 3, kernelSize: 3, stride: 2, padding: 1), ReLU(),
                                                   Conv2d(3, 4, kernelSize: 3, padding: 1), Sigmoid(),
                                                   ConvTranspose2d(4, 2, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1),
                                                   LeakyReLU(negativeSlope: 0.1), Conv2d(2, 2, kernelSize: 1)) }),
        ]
        /// The activation each product multiplies its input gradient by (its `inputActivation`).
        func inputActivations(_ model: Sequential) -> [Activation] {
            model.layers.compactMap {
                ($0 as? Linear)?.inputActivation ?? ($0 as? Conv2d)?.inputActivation ?? ($0 as? ConvTranspose2d)?.inputActivation
            }
        }
        for (name, shape, build) in builders {
            let fused = build(true), plain = build(false)
            let first = fused.layers.compactMap { $0 as? ActivationLayer }
            #expect(first.filter(\.isFused).count == first.count - (name == "mlp" ? 1 : 0), "softplus is not fused")
            #expect(plain.layers.compactMap { $0 as? ActivationLayer }.allSatisfy { !$0.isFused })
            // Each product after a fused product (past reshapes) takes that product's act′ into its input gradient:
            // Tanh, ReLU, Sigmoid, LeakyReLU in the mlp; the convolution's ReLU in the transposed convolution and
            // the transposed convolution's Tanh across Flatten; ReLU, Sigmoid and LeakyReLU along the conv chain.
            let expected: [Activation] = switch name {
            case "mlp": [.identity, .tanh, .relu, .sigmoid, .leakyRelu(slope: 0.1)]
            case "conv": [.identity, .relu, .tanh]
            default: [.identity, .relu, .sigmoid, .leakyRelu(slope: 0.1)]
            }
            #expect(inputActivations(fused) == expected, "\(name)")
            #expect(inputActivations(plain).allSatisfy { $0 == .identity })
            let a = try LayerHarness(fused, device: device, inputShape: shape, batch: 3)
            let b = try LayerHarness(plain, device: device, inputShape: shape, batch: 3)
            var rng = TestRandom(seed: 17)
            let x = rng.array(a.input.count), g = rng.array(a.outputCount)
            let ra = a.gradients(x, g), rb = b.gradients(x, g)
            #expect(mismatch(ra.y, doubles(rb.y), rtol: 1e-5, atol: 1e-6) == nil, "\(selector) \(name) y")
            #expect(mismatch(ra.dx, doubles(rb.dx), rtol: 1e-4, atol: 1e-6) == nil, "\(selector) \(name) dx")
            #expect(mismatch(ra.dparameters, doubles(rb.dparameters), rtol: 1e-4, atol: 1e-6) == nil, "\(selector) \(name) dθ")
        }
    }

    @Test(arguments: TestDevices.selectors)
    func gradients(selector: String) throws {
        try checkGradients(selector: selector, make: { Sequential(Linear(4, 6), Tanh(), Linear(6, 3), Sigmoid()) },
                           inputShape: [4], batch: 3)
        try checkGradients(selector: selector,
                           make: { Sequential(Conv2d(1, 2, kernelSize: 3, padding: 1), BatchNorm2d(2), LeakyReLU(negativeSlope: 0.3),
                                              Flatten(), Linear(32, 5), Reshape([5, 1, 1])) },
                           inputShape: [1, 4, 4], batch: 2)
        // conv → ReLU → conv → ReLU → ConvT, fused: each product's input gradient carries the upstream ReLU′
        try checkGradients(selector: selector,
                           make: { Sequential(Conv2d(2, 3, kernelSize: 3, stride: 2, padding: 1), ReLU(),
                                              Conv2d(3, 4, kernelSize: 3, padding: 1), ReLU(),
                                              ConvTranspose2d(4, 2, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1)) },
                           inputShape: [2, 6, 6], batch: 2)
    }
}
