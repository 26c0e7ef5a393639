import Compute

/// A linear layer's products through row-sparse operands (``SparseRowPrimitives``), for a layer that reads a top-k
/// code (its input holds at most k non-zero entries per row) or that produces one (its output gradient does): in
/// training the layer then compacts those rows and does capacity/width of the dense work, through Wᵀ (transposed
/// each step) for a sparse input and through W itself for a sparse output gradient. Evaluation, and any forward
/// pass outside training, stays dense, so that a code from anywhere decodes whole.
struct SparseRowsPlan {
    let primitives: any SparseRowPrimitives
    let input: SparseInput?
    let outputGradient: Compacted?
    /// Ones [rows], to broadcast the bias.
    let ones: Buffer

    /// A sparse input's compacted rows, and Wᵀ [in, out] and ∂L/∂Wᵀ, whose rows its entries select.
    struct SparseInput {
        let compacted: Compacted
        let weightRows: Buffer
        let gradientRows: Buffer
    }

    /// One operand's compacted rows.
    struct Compacted {
        let capacity: Int
        let indices: Buffer  // [rows, capacity] int32
        let values: Buffer   // [rows, capacity]
        let dots: Buffer     // [rows, capacity]

        init(capacity: Int, rows: Int, device: any Device) throws {
            self.capacity = capacity
            indices = try device.makeBuffer(count: rows * capacity, dtype: .int32)
            values = try device.makeBuffer(count: rows * capacity, dtype: .float32)
            dots = try device.makeBuffer(count: rows * capacity, dtype: .float32)
        }

        func compact(_ x: BufferSlice, rows: Int, cols: Int, with primitives: any SparseRowPrimitives) {
            primitives.compactRows(x, rows: rows, cols: cols, capacity: capacity, indices: indices.whole, values: values.whole)
        }
    }
}

extension Linear {
    /// The row-sparse operands in use, by their entries per row (``useSparseRows(input:outputGradient:)``); nil
    /// for dense products.
    public var sparseRowCapacities: (input: Int?, outputGradient: Int?)? {
        sparseRows.map { ($0.input?.compacted.capacity, $0.outputGradient?.capacity) }
    }

    /// Makes training products through row-sparse operands on a device with ``SparseRowPrimitives`` (after
    /// ``prepare(device:store:inputShape:batch:fusion:)``): `input` for a layer whose input rows hold at most that
    /// many non-zero entries, `outputGradient` for one whose output gradient rows do. A layer with an activation
    /// fused on either side, or a device without the primitives, keeps its dense products (the call returns
    /// false). Rows with more entries than declared lose the rest: the caller guarantees the bound.
    @discardableResult
    public func useSparseRows(input: Int?, outputGradient: Int?) throws -> Bool {
        guard let p = prepared?.value else { preconditionFailure("Linear: prepare before useSparseRows") }
        guard let primitives = p.device as? any SparseRowPrimitives, input != nil || outputGradient != nil,
              p.fusion.epilogue == .identity, p.fusion.inputActivation == .identity else {
            sparseRows = nil
            return false
        }
        let rows = p.rows, device = p.device
        let ones = try device.makeBuffer(count: rows, dtype: .float32)
        device.fill(ones.whole, with: 1)
        sparseRows = SparseRowsPlan(
            primitives: primitives,
            input: try input.map {
                SparseRowsPlan.SparseInput(compacted: try SparseRowsPlan.Compacted(capacity: min($0, inFeatures), rows: rows, device: device),
                                           weightRows: try device.makeBuffer(count: inFeatures * outFeatures, dtype: .float32),
                                           gradientRows: try device.makeBuffer(count: inFeatures * outFeatures, dtype: .float32))
            },
            outputGradient: try outputGradient.map { try SparseRowsPlan.Compacted(capacity: min($0, outFeatures), rows: rows, device: device) },
            ones: ones)
        return true
    }

    /// Wᵀ [in, out] as the last training forward pass through a sparse input transposed it (nil without a sparse
    /// input): the table whose rows another product through the same input indices reads within that step.
    public var transposedWeight: BufferSlice? { sparseRows?.input?.weightRows.whole }

    /// y = x·Wᵀ + b through the compacted rows of a sparse input x.
    func sparseForward(_ x: BufferSlice, plan: SparseRowsPlan, input: SparseRowsPlan.SparseInput,
                       prepared p: PreparedProduct<Int>) -> BufferSlice {
        let y = p.output.whole, sparse = plan.primitives, c = input.compacted
        c.compact(x, rows: p.rows, cols: inFeatures, with: sparse)
        let weightRows = input.weightRows.whole
        sparse.transpose(p.weight, rows: outFeatures, cols: inFeatures, into: weightRows, accumulate: false)
        if let bias = p.bias {
            p.device.gemm(plan.ones.whole, bias, into: y, m: p.rows, n: outFeatures, k: 1)
        }
        sparse.gatheredRowsProduct(indices: c.indices.whole, values: c.values.whole, rows: p.rows, capacity: c.capacity,
                                   table: weightRows, width: outFeatures, into: y, alpha: 1, beta: p.bias == nil ? 0 : 1)
        return y
    }

    /// The parameter gradients and, when asked, dx = β·dx + dy·W, through whichever operand is sparse.
    func sparseBackward(_ dy: BufferSlice, x: BufferSlice, plan: SparseRowsPlan, prepared p: PreparedProduct<Int>,
                        inputGradient: (target: BufferSlice, beta: Float)?) -> BufferSlice? {
        let d = p.device, sparse = plan.primitives, rows = p.rows
        if let c = plan.outputGradient {
            // dy has at most c.capacity entries per row: dW[j, :] += dy[r, j]·x[r, :], db[j] += dy[r, j]
            c.compact(dy, rows: rows, cols: outFeatures, with: sparse)
            sparse.scatteredRowsProduct(indices: c.indices.whole, values: c.values.whole, rows: rows, capacity: c.capacity,
                                        x: x, width: inFeatures, into: p.dweight, tableRows: outFeatures, bias: p.dbias)
            guard let (dx, beta) = inputGradient else { return nil }
            sparse.gatheredRowsProduct(indices: c.indices.whole, values: c.values.whole, rows: rows, capacity: c.capacity,
                                       table: p.weight, width: inFeatures, into: dx, alpha: 1, beta: beta)
            return dx
        }
        // the input (compacted in the forward pass) is sparse: ∂L/∂Wᵀ[j, :] += x[r, j]·dy[r, :], then added to dW
        guard let input = plan.input else { preconditionFailure("Linear: no sparse operand") }
        let c = input.compacted, gradientRows = input.gradientRows.whole
        d.fill(gradientRows, with: 0)
        sparse.scatteredRowsProduct(indices: c.indices.whole, values: c.values.whole, rows: rows, capacity: c.capacity,
                                    x: dy, width: outFeatures, into: gradientRows, tableRows: inFeatures, bias: nil)
        sparse.transpose(gradientRows, rows: inFeatures, cols: outFeatures, into: p.dweight, accumulate: true)
        if let dbias = p.dbias {
            d.reduce(dy, rows: rows, cols: outFeatures, axis: .rows, op: .sum, scale: 1, into: dbias, accumulate: true)
        }
        guard let (dx, beta) = inputGradient else { return nil }
        // dx is dy·W at the input's entries only: a sparse input's other entries carry no gradient (a top-k code)
        sparse.gatheredRowsDots(dy, indices: c.indices.whole, values: c.values.whole, rows: rows, capacity: c.capacity,
                                table: input.weightRows.whole, width: outFeatures, into: c.dots.whole)
        sparse.expandRows(indices: c.indices.whole, values: c.dots.whole, rows: rows, capacity: c.capacity,
                          cols: inFeatures, into: dx, accumulate: beta != 0)
        return dx
    }
}
