import Compute

/// A fully connected layer, PyTorch's `nn.Linear`: y = x·Wᵀ + b.
///
/// Parameters: `weight` [out, in] and `bias` [out], both U(−1/√in, 1/√in). The input's last dimension
/// must be `in`; leading dimensions are treated as extra rows, as in PyTorch.
public final class Linear: FusableProduct {
    /// Input features.
    public let inFeatures: Int
    /// Output features.
    public let outFeatures: Int
    /// Whether the layer has a bias.
    public let hasBias: Bool

    private var parameters = WeightAndBias()
    private(set) var prepared: Reference<PreparedProduct<Int>>?
    private var input: BufferSlice?
    /// Products through row-sparse operands in training (``useSparseRows(input:outputGradient:)``).
    var sparseRows: SparseRowsPlan?
    /// Whether the last forward pass compacted a sparse input (its backward then reads the compacted rows).
    private var compactedInput = false

    /// A layer mapping `inFeatures` to `outFeatures`.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.hasBias = bias
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inFeatures > 0, outFeatures > 0 else {
            throw LayerError.invalidConfiguration(layer: "Linear", message: "features must be positive, got \(inFeatures)→\(outFeatures)")
        }
        guard let last = inputShape.last, last == inFeatures, inputShape.allSatisfy({ $0 > 0 }) else {
            throw LayerError.invalidShape(layer: "Linear(\(inFeatures)→\(outFeatures))",
                                          message: "expects inputs whose last dimension is \(inFeatures), got \(inputShape)")
        }
        return inputShape.dropLast() + [outFeatures]
    }

    /// The weight [out, in] in the store, once declared.
    public var weightID: ParameterID? { parameters.weightID }
    /// The bias [out] in the store, once declared (nil without a bias).
    public var biasID: ParameterID? { parameters.biasID }

    public func declareParameters(in layout: inout ParameterLayout, prefix: String) {
        parameters.declare(in: &layout, prefix: prefix, weightShape: [outFeatures, inFeatures],
                           biasCount: hasBias ? outFeatures : nil, fanIn: inFeatures)
    }

    public func prepare(device: any Device, store: ParameterStore, inputShape: [Int], batch: Int, fusion: Fusion) throws {
        _ = try outputShape(for: inputShape)
        let rows = batch * elementCount(inputShape) / inFeatures
        prepared = Reference(try PreparedProduct(device: device, store: store, parameters: parameters, layer: "Linear",
                                                 shape: rows, fusion: fusion, outputCount: rows * outFeatures,
                                                 inputCount: rows * inFeatures))
    }

    public func forward(_ x: BufferSlice, context: StepContext) -> BufferSlice {
        guard let p = prepared else { preconditionFailure("Linear: prepare before forward") }
        input = x
        compactedInput = false
        if context.training, let plan = sparseRows, let sparseInput = plan.input {
            compactedInput = true
            return sparseForward(x, plan: plan, input: sparseInput, prepared: p.value)
        }
        let y = p.output.whole
        // x [rows, in] · Wᵀ [in, out] + b [out] → y [rows, out], activation in the epilogue
        p.device.gemm(x, transposeA: false, p.weight, transposeB: true, into: y, m: p.rows, n: outFeatures,
                      k: inFeatures, alpha: 1, beta: 0, bias: p.bias, activation: p.fusion.epilogue)
        return y
    }

    public func backward(_ dy: BufferSlice, context: StepContext, needInputGradient: Bool) -> BufferSlice? {
        guard let p = prepared else { preconditionFailure("Linear: prepare before backward") }
        let inputGradient: (target: BufferSlice, beta: Float)? = needInputGradient ? (p.dinput.whole, 0) : nil
        return backward(dy, inputGradient: inputGradient)
    }

    /// The backward pass with the input gradient added to `target` instead of written to the layer's own buffer, for
    /// a layer sharing its input with others whose input gradients `target` already holds: dx = target + dpre·W, and
    /// when the layer takes an input act′ (``Fusion/inputActivation``) it multiplies that whole sum, so `target` must then
    /// hold the others' gradients without it. Returns `target`.
    @discardableResult
    public func backward(_ dy: BufferSlice, context: StepContext, addingInputGradientTo target: BufferSlice) -> BufferSlice {
        guard let p = prepared else { preconditionFailure("Linear: prepare before backward") }
        precondition(target.count == p.rows * inFeatures, "Linear: input gradient target of \(target.count) elements")
        return backward(dy, inputGradient: (target, beta: 1))!
    }

    /// Parameter gradients, then, when `inputGradient` is given, dx = β·dx + dpre·W (times g′(x)) into it.
    private func backward(_ dy: BufferSlice, inputGradient: (target: BufferSlice, beta: Float)?) -> BufferSlice? {
        guard let p = prepared, let x = input else { preconditionFailure("Linear: forward before backward") }
        if let plan = sparseRows, plan.outputGradient != nil || compactedInput {
            precondition(inputGradient.map { $0.beta == 0 || $0.beta == 1 } ?? true, "Linear: sparse rows add or write dx")
            return sparseBackward(dy, x: x, plan: plan, prepared: p.value, inputGradient: inputGradient)
        }
        let d = p.device
        // dpre [rows, out] = dy · act′(y)
        let dpre = p.fusion.epilogueGradient(dy, device: d, output: p.output.whole, workspace: p.dpre.whole)
        // dW [out, in] += dpreᵀ [out, rows] · x [rows, in], and db [out] += Σ_rows dpre: the row sums of dpreᵀ
        d.gemm(dpre, transposeA: true, x, transposeB: false, into: p.dweight, m: outFeatures, n: inFeatures,
               k: p.rows, alpha: 1, beta: 1, epilogue: .none, rowSums: p.dbias)
        guard let (dx, beta) = inputGradient else { return nil }
        // dx [rows, in] = β·dx + dpre [rows, out] · W [out, in], times g′(x) when x came out of activation g
        // (g′ multiplies the whole sum, which holds as every part of dx takes the same factor)
        d.gemm(dpre, transposeA: false, p.weight, transposeB: false, into: dx, m: p.rows, n: inFeatures,
               k: outFeatures, alpha: 1, beta: beta, epilogue: p.fusion.inputGradientEpilogue(input: x), rowSums: nil)
        return dx
    }
}

extension PreparedProduct<Int> {
    /// A linear layer's product rows: the batch times the input's leading dimensions.
    var rows: Int { shape }
}
