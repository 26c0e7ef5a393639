import Compute

/// A data matrix resident on a device, drawn from in batches through an index buffer: no host copies per step.
///
/// Training batches follow a permutation drawn per epoch from (seed, epoch), so a resumed run sees the same
/// order as an uninterrupted one. Evaluation batches walk the rows in order; the last one is padded by
/// repeating rows, and callers read back only the first ``Batches/Batch/valid`` rows of its results.
public final class DeviceDataset {
    /// The device holding the rows.
    public let device: any Device
    /// Number of rows.
    public let count: Int
    /// Features per row.
    public let dimension: Int
    /// The rows, count × dimension.
    public let rows: Buffer
    private let indices: Buffer
    private let batch: Buffer
    /// Rows per batch.
    public let batchSize: Int

    /// Uploads `features` (count × dimension, row-major) and allocates one batch of `batchSize` rows.
    public init(device: any Device, features: [Float], dimension: Int, batchSize: Int) throws {
        precondition(dimension > 0 && features.count % dimension == 0, "features do not fill whole rows")
        self.device = device
        self.dimension = dimension
        self.count = features.count / dimension
        self.batchSize = batchSize
        rows = try device.makeBuffer(features)
        indices = try device.makeBuffer(count: (max(count, 1) + batchSize - 1) / batchSize * batchSize, dtype: .int32)
        batch = try device.makeBuffer(count: batchSize * dimension, dtype: .float32)
    }

    /// One batch: the gathered rows and how many of them are real (the rest pad an evaluation batch).
    public struct Batch {
        public let x: BufferSlice
        public let valid: Int
        /// The data set rows in this batch, in order (host copy of the index slice).
        public let rowIndices: ArraySlice<Int32>
    }

    /// Training order of an epoch: a seeded shuffle (``SplitMix64/permutation(count:seed:)``) keyed by (seed, epoch).
    public static func permutation(count: Int, seed: UInt64, epoch: Int) -> [Int32] {
        SplitMix64.permutation(count: count, seed: seed ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
            .map { Int32($0) }
    }

    /// Uploads an order of at most ``count`` rows (a permutation for training, or `0..<count` for evaluation), padded to whole
    /// batches by repeating its first rows, and returns the batches over it. With `dropLast`, a final partial
    /// batch is skipped (training); otherwise it is padded (evaluation).
    public func batches(order: [Int32], dropLast: Bool) -> Batches {
        precondition(order.count <= count, "an order longer than the data set")
        let whole = order.count / batchSize
        let partial = order.count % batchSize
        let batchCount = whole + (dropLast || partial == 0 ? 0 : 1)
        var padded = order
        while padded.count < batchCount * batchSize { padded.append(order[padded.count % max(order.count, 1)]) }
        device.write(padded, to: indices.slice(0, padded.count))
        return Batches(dataset: self, order: padded, batchCount: batchCount, total: order.count)
    }

    /// The batches of one pass; gathering a batch overwrites the previous one.
    public struct Batches: Sequence, IteratorProtocol {
        let dataset: DeviceDataset
        let order: [Int32]
        /// Number of batches in the pass.
        public let batchCount: Int
        let total: Int
        var position = 0

        /// Passes over the next `count` batches without gathering them (continuing an interrupted epoch).
        public mutating func skip(_ count: Int) {
            position = Swift.min(batchCount, position + Swift.max(count, 0))
        }

        public mutating func next() -> Batch? {
            guard position < batchCount else { return nil }
            defer { position += 1 }
            return dataset.gather(batch: position, order: order, total: total)
        }
    }

    private func gather(batch index: Int, order: [Int32], total: Int) -> Batch {
        let start = index * batchSize
        device.gatherRows(rows.whole, indices: indices.slice(start, batchSize), cols: dimension, into: batch.whole)
        let valid = min(batchSize, max(0, total - start))
        return Batch(x: batch.whole, valid: valid, rowIndices: order[start..<(start + batchSize)])
    }
}
