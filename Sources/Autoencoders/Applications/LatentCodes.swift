import Compute
import Foundation

/// The codes of a data set under a trained model: one latent vector per sample (μ for VAEs, the quantized
/// z_q for VQ-VAE, h otherwise) and, for VQ-VAE, the codebook index of each of its code vectors.
public struct LatentCodes: Sendable {
    /// Number of samples, n.
    public let count: Int
    /// Latent width L.
    public let dimension: Int
    /// n × L values, sample after sample.
    public let values: [Float]
    /// VQ-VAE only: n × P codebook indices (P = L / D code vectors per sample), sample after sample.
    public let indices: [Int32]?
    /// Code vectors per sample, P (0 without a codebook).
    public let positions: Int
    /// The samples' labels, when the data has them.
    public let labels: [Int32]?

    /// Codes as given; `values` holds whole rows of `dimension`, `indices` whole rows of `positions`.
    public init(dimension: Int, values: [Float], indices: [Int32]? = nil, positions: Int = 0, labels: [Int32]? = nil) {
        precondition(dimension > 0 && values.count % dimension == 0, "codes must be whole rows of \(dimension)")
        self.dimension = dimension
        self.count = values.count / dimension
        self.values = values
        precondition(indices == nil || indices!.count == count * positions, "one row of indices per code")
        precondition(labels == nil || labels!.count == count, "one label per code")
        self.indices = indices
        self.positions = positions
        self.labels = labels
    }

    /// The code of sample `index`.
    public func code(_ index: Int) -> [Float] {
        Array(values[index * dimension ..< (index + 1) * dimension])
    }

    /// Per-dimension mean m_j = (1/n) Σᵢ z_ij, accumulated in Double (zeros for no codes).
    public func mean() -> [Double] {
        var sum = [Double](repeating: 0, count: dimension)
        values.withUnsafeBufferPointer { z in
            for row in 0..<count {
                for j in 0..<dimension { sum[j] += Double(z[row * dimension + j]) }
            }
        }
        return sum.map { $0 / Double(max(count, 1)) }
    }

    /// Per-dimension population standard deviation s_j = √((1/n) Σᵢ (z_ij − m_j)²).
    public func standardDeviation() -> [Double] {
        let m = mean()
        var squares = [Double](repeating: 0, count: dimension)
        values.withUnsafeBufferPointer { z in
            for row in 0..<count {
                for j in 0..<dimension {
                    let deviation = Double(z[row * dimension + j]) - m[j]
                    squares[j] += deviation * deviation
                }
            }
        }
        return squares.map { ($0 / Double(max(count, 1))).squareRoot() }
    }

    /// The mean code of the samples labelled `label`, (1/|G|) Σ_{i∈G} zᵢ.
    ///
    /// - Throws: `ConfigError.invalid` when the data has no labels or none equal to `label`.
    public func mean(label: Int32) throws -> [Float] {
        guard let labels else { throw ConfigError.invalid("label:\(label) needs labelled data, and this data has no labels") }
        let rows = labels.indices.filter { labels[$0] == label }
        guard !rows.isEmpty else {
            let present = Set(labels).sorted().map(String.init).joined(separator: ", ")
            throw ConfigError.invalid("no sample has label \(label) (labels present: \(present))")
        }
        var sum = [Double](repeating: 0, count: dimension)
        for row in rows {
            for j in 0..<dimension { sum[j] += Double(values[row * dimension + j]) }
        }
        return sum.map { Float($0 / Double(rows.count)) }
    }
}

extension Autoencoder {
    /// Each batch of `rows` in order with its code z = ``encode(_:)`` (μ for VAEs) on the device, valid until the
    /// next batch: the one pass behind encoding, feature lists and anomaly scores, resident or streamed. `body`
    /// returns false to end the pass early (then this returns false).
    ///
    /// - Throws: `DataError.mismatch` naming `name` when the rows do not have the model's input size, errors of
    ///   the pass (a streamed file that changed), device faults, and what `body` throws.
    @discardableResult
    func forEachCode(of rows: any BatchedRows, name: String, _ body: (RowBatch, BufferSlice) throws -> Bool) throws -> Bool {
        guard rows.dimension == inputDimension else {
            throw DataError(file: name, .mismatch("samples have \(rows.dimension) features, the model takes \(inputDimension)"))
        }
        precondition(rows.batchSize == batchSize, "rows batched for another batch size than the model's")
        var batches = rows.inOrder()
        while let batch = batches.next() {
            guard try body(batch, encode(batch.x)) else { return false }
        }
        try batches.check()
        try device.checkHealth()
        return true
    }

    /// Encodes every sample of `data` with ``encode(_:)`` in batches of ``batchSize`` (the last batch padded),
    /// reading back the codes and, for VQ-VAE, the code indices.
    ///
    /// - Throws: `DataError.mismatch` when the samples do not have the model's input size, and device faults.
    public func encode(_ data: Dataset) throws -> LatentCodes {
        let l = latentDim
        let positions = latent.codeIndices?.perSample ?? 0
        var values: [Float] = [], indices: [Int32] = []
        values.reserveCapacity(data.count * l)
        try forEachCode(of: try DeviceDataset(device: device, data: data, batchSize: batchSize), name: data.name) { batch, z in
            values += device.read(z.slice(0, batch.valid * l))
            if let codes = latent.codeIndices { indices += device.readInts(codes.indices.slice(0, batch.valid * positions)) }
            return true
        }
        return LatentCodes(dimension: l, values: values, indices: positions > 0 ? indices : nil, positions: positions,
                           labels: data.labels)
    }

    /// Decodes codes (whole rows of ``latentDim``) with ``decode(_:)`` in batches of ``batchSize``: probabilities for
    /// Bernoulli data, values for Gaussian data, in the model's normalized units; rows × ``inputDimension`` values.
    public func decode(codes: [Float]) throws -> [Float] {
        let l = latentDim, n = inputDimension
        precondition(codes.count % l == 0, "codes must be whole rows of \(l)")
        let count = codes.count / l
        guard count > 0 else { return [] }
        let z = try device.makeBuffer(count: batchSize * l, dtype: .float32)
        var outputs: [Float] = []
        outputs.reserveCapacity(count * n)
        for start in stride(from: 0, to: count, by: batchSize) {
            let valid = min(batchSize, count - start)
            var chunk = Array(codes[(start * l)..<((start + valid) * l)])
            chunk += [Float](repeating: 0, count: (batchSize - valid) * l)
            device.write(chunk, to: z.whole)
            outputs += device.read(decode(z.whole).slice(0, valid * n))
        }
        try device.checkHealth()
        return outputs
    }

    /// The reconstructions of every sample of `data` (decode ∘ encode, so VAEs decode μ), in model space.
    public func reconstruct(_ data: Dataset) throws -> [Float] {
        try decode(codes: encode(data).values)
    }
}
