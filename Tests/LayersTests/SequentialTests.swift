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
        /// Each layer's part in the chain's fusions, as ``Sequential`` plans them.
        func parts(_ model: Sequential) -> [(layer: any Layer, fusion: Fusion)] {
            Array(zip(model.layers, FusionPlan(model.layers, fuse: model.fuse).fusions))
        }
        /// The activation each product multiplies its input gradient by (its `inputActivation`).
        func inputActivations(_ model: Sequential) -> [Activation] {
            parts(model).filter { $0.layer is Linear || $0.layer is Conv2d || $0.layer is ConvTranspose2d }.map(\.fusion.inputActivation)
        }
        /// Whether each activation layer passes through (the product before it applies it).
        func passing(_ model: Sequential) -> [Bool] {
            parts(model).filter { $0.layer is ActivationLayer }.map(\.fusion.passesThrough)
        }
        for (name, shape, build) in builders {
            let fused = build(true), plain = build(false)
            let first = passing(fused)
            #expect(first.filter { $0 }.count == first.count - (name == "mlp" ? 1 : 0), "softplus is not fused")
            #expect(passing(plain).allSatisfy { !$0 })
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
            #expect(fused.plan == FusionPlan(fused.layers), "preparing the chain plans its fusions")
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

/// A chain read by two Linear heads whose outputs are added, as a VAE's encoder feeds μ and log σ². How the
/// heads' input gradients reach the chain:
/// - `plain`: each head's own, summed, no fusion;
/// - `both`: both heads take the chain's last act′ (the trunk prepared with ``Fusion/derivativeAppliedDownstream``),
///   then are summed;
/// - `accumulating`: only the second takes it, adding its gradient to the first's plain one and multiplying the sum.
private final class TwoHeads: Layer {
    enum Mode { case plain, both, accumulating }
    let mode: Mode
    let trunk = Sequential(Linear(5, 6), ReLU(), Linear(6, 6), Tanh())
    let first = Linear(6, 3), second = Linear(6, 3)
    private var device: (any Device)?
    private var sum: Buffer?, gradient: Buffer?

    init(_ mode: Mode) {
        self.mode = mode
    }

    func outputShape(for inputShape: [Int]) throws -> [Int] { [3] }

    func declareParameters(in layout: inout ParameterLayout, prefix: String) {
        trunk.declareParameters(in: &layout, prefix: prefix + "trunk.")
        first.declareParameters(in: &layout, prefix: prefix + "first.")
        second.declareParameters(in: &layout, prefix: prefix + "second.")
    }

    func prepare(device: any Device, store: ParameterStore, inputShape: [Int], batch: Int) throws {
        try trunk.prepare(device: device, store: store, inputShape: inputShape, batch: batch,
                          fusion: Fusion(derivativeAppliedDownstream: mode != .plain))
        let activation = try #require(trunk.plan).outputActivation
        #expect(activation == (mode == .plain ? .identity : .tanh))
        let taking = Fusion(inputActivation: activation)
        try first.prepare(device: device, store: store, inputShape: [6], batch: batch,
                          fusion: mode == .both ? taking : .none)
        try second.prepare(device: device, store: store, inputShape: [6], batch: batch, fusion: taking)
        self.device = device
        sum = try device.makeBuffer(count: 3 * batch, dtype: .float32)
        gradient = try device.makeBuffer(count: 6 * batch, dtype: .float32)
    }

    func forward(_ x: BufferSlice, context: StepContext) -> BufferSlice {
        guard let device, let sum else { preconditionFailure("prepare first") }
        let h = trunk.forward(x, context: context)
        device.copy(first.forward(h, context: context), to: sum.whole)
        device.axpby(alpha: 1, second.forward(h, context: context), beta: 1, sum.whole)
        return sum.whole
    }

    func backward(_ dy: BufferSlice, context: StepContext, needInputGradient: Bool) -> BufferSlice? {
        guard let device, let gradient,
              let a = first.backward(dy, context: context, needInputGradient: true) else { preconditionFailure("head") }
        device.copy(a, to: gradient.whole)
        if mode == .accumulating {
            second.backward(dy, context: context, addingInputGradientTo: gradient.whole)
        } else {
            guard let b = second.backward(dy, context: context, needInputGradient: true) else { preconditionFailure("head") }
            device.axpby(alpha: 1, b, beta: 1, gradient.whole)
        }
        return trunk.backward(gradient.whole, context: context, needInputGradient: needInputGradient)
    }
}

@Suite struct OutputDerivativeFusionTests {
    @Test(arguments: TestDevices.selectors)
    func headsTakingTheTrunksDerivativeMatchUnfused(selector: String) throws {
        let device = try TestDevices.device(selector)
        let plain = try LayerHarness(TwoHeads(.plain), device: device, inputShape: [5], batch: 4)
        var rng = TestRandom(seed: 23)
        let x = rng.array(plain.input.count), g = rng.array(plain.outputCount)
        let expected = plain.gradients(x, g)
        for mode in [TwoHeads.Mode.both, .accumulating] {
            let fused = try LayerHarness(TwoHeads(mode), device: device, inputShape: [5], batch: 4).gradients(x, g)
            #expect(mismatch(fused.dx, doubles(expected.dx), rtol: 1e-4, atol: 1e-6) == nil, "\(selector) \(mode) dx")
            #expect(mismatch(fused.dparameters, doubles(expected.dparameters), rtol: 1e-4, atol: 1e-6) == nil,
                    "\(selector) \(mode) dθ")
            try checkGradients(selector: selector, make: { TwoHeads(mode) }, inputShape: [5], batch: 4)
        }
    }

    @Test func onlyAChainEndingInAFusedProductFuses() {
        #expect(FusionPlan([Linear(4, 4)], derivativeAppliedDownstream: true).outputActivation == .identity)
        let dropped = FusionPlan([Linear(4, 4), ReLU(), Dropout(0.5)], derivativeAppliedDownstream: true)
        #expect(dropped.outputActivation == .identity && !dropped.fusions[0].derivativeAppliedDownstream)
        let taken = FusionPlan([Linear(4, 4), Sigmoid(), Flatten()], derivativeAppliedDownstream: true)
        #expect(taken.outputActivation == .sigmoid)
        #expect(taken.fusions[0] == Fusion(epilogue: .sigmoid, derivativeAppliedDownstream: true))
        let own = FusionPlan([Linear(4, 4), ReLU()])
        #expect(own.outputActivation == .identity && !own.fusions[0].derivativeAppliedDownstream,
                "without the readers' offer the chain applies its own act′")
        let inner = FusionPlan([Linear(4, 4), ReLU(), Linear(4, 4)], derivativeAppliedDownstream: true)
        #expect(inner.outputActivation == .identity, "the last product has no activation: the inner one is taken inside")
        #expect(inner.fusions[2].inputActivation == .relu && inner.fusions[0].derivativeAppliedDownstream)
    }
}
