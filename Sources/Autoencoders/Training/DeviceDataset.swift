import Compute

/// A data matrix resident on a device, drawn from in batches through an index buffer: no host copies per step.
///
/// Training batches follow a permutation drawn per epoch from (seed, epoch), so a resumed run sees the same
/// order as an uninterrupted one. Evaluation batches walk the rows in order; the last one is padded by
/// repeating rows, and callers read back only the first ``RowBatch/valid`` rows of its results.
public final class DeviceDataset: BatchedRows {
    /// The device holding the rows.
    public let device: any Device
    /// Number of rows.
    public let count: Int
    /// Features per row.
    public let dimension: Int
    /// The rows, count × dimension, in the element type they are stored in (``SampleStorage/dtype``).
    public let rows: Buffer
    /// The factor the gather reads a stored row element with (1/255 for bytes, 1 otherwise).
    private let scale: Float
    private let indices: Buffer
    private let batch: Buffer
    /// Rows per batch.
    public let batchSize: Int

    /// Uploads `storage` (count × dimension values, row-major) as it is stored, and allocates one batch of
    /// `batchSize` rows; batches read bytes and halves as ``SampleStorage/floats`` does on the host.
    public init(device: any Device, storage: SampleStorage, dimension: Int, batchSize: Int) throws {
        precondition(dimension > 0 && storage.count % dimension == 0, "features do not fill whole rows")
        self.device = device
        self.dimension = dimension
        self.count = storage.count / dimension
        self.batchSize = batchSize
        if case .float32(let values) = storage {
            rows = try device.makeBuffer(values)
        } else {
            rows = try device.makeBuffer(bytes: storage.deviceBytes, dtype: storage.dtype)
        }
        scale = SampleStorage.gatherScale(storage.dtype)
        indices = try device.makeBuffer(count: (max(count, 1) + batchSize - 1) / batchSize * batchSize, dtype: .int32)
        batch = try device.makeBuffer(count: batchSize * dimension, dtype: .float32)
    }

    /// Uploads `features` (count × dimension, row-major) and allocates one batch of `batchSize` rows.
    public convenience init(device: any Device, features: [Float], dimension: Int, batchSize: Int) throws {
        try self.init(device: device, storage: .float32(features), dimension: dimension, batchSize: batchSize)
    }

    /// Uploads the samples of `data` as they are stored (image bytes as bytes: a quarter of their floats).
    public convenience init(device: any Device, data: Dataset, batchSize: Int) throws {
        try self.init(device: device, storage: data.storage, dimension: data.dimension, batchSize: batchSize)
    }

    /// Bytes the rows take on the device.
    public var storedBytes: Int { rows.count * rows.dtype.size }

    /// Training order of an epoch: a seeded shuffle (``SplitMix64/permutation(count:seed:)``) keyed by (seed, epoch).
    public static func permutation(count: Int, seed: UInt64, epoch: Int) -> [Int32] {
        SplitMix64.permutation(count: count, seed: epochKey(seed: seed, epoch: epoch)).map { Int32($0) }
    }

    /// `rows` distinct rows of `count` (all of them when `rows` ≥ `count`) drawn by (seed, epoch) in O(rows) memory
    /// (``SplitMix64/sample(_:of:seed:)``): the candidates of the latents' upkeep.
    public static func sample(_ rows: Int, count: Int, seed: UInt64, epoch: Int) -> [Int32] {
        SplitMix64.sample(rows, of: count, seed: epochKey(seed: seed, epoch: epoch)).map { Int32($0) }
    }

    private static func epochKey(seed: UInt64, epoch: Int) -> UInt64 {
        seed ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03
    }

    /// A checksum of the rows' values.
    public func fingerprint() -> Double {
        guard rows.dtype != .float32 else { return DataParallel.fingerprint(device.read(rows.whole)) }
        return DataParallel.fingerprint(SampleStorage(deviceBytes: device.readBytes(rows.whole), dtype: rows.dtype).floats)
    }

    /// Uploads an order of at most ``count`` rows (a permutation for training, or `0..<count` for evaluation), padded to whole
    /// batches by repeating its first rows, and returns the batches over it. With `dropLast`, a final partial
    /// batch is skipped (training); otherwise it is padded (evaluation).
    public func batches(order: RowOrder, dropLast: Bool) -> RowBatches {
        let order = order.all
        precondition(order.count <= count, "an order longer than the data set")
        let whole = order.count / batchSize
        let partial = order.count % batchSize
        let batchCount = whole + (dropLast || partial == 0 ? 0 : 1)
        var padded = order
        while padded.count < batchCount * batchSize { padded.append(order[padded.count % max(order.count, 1)]) }
        device.write(padded, to: indices.slice(0, padded.count))
        return RowBatches(batchCount: batchCount, cursor: Gather(dataset: self, total: order.count))
    }

    /// Gathers batch i of an uploaded order: its rows, by their indices, into the batch buffer.
    private final class Gather: BatchCursor {
        let dataset: DeviceDataset
        let total: Int
        var failure: (any Error)? { nil }

        init(dataset: DeviceDataset, total: Int) {
            self.dataset = dataset
            self.total = total
        }

        func batch(_ index: Int) -> RowBatch? {
            let d = dataset, size = d.batchSize, start = index * size
            if d.rows.dtype == .float32 {
                d.device.gatherRows(d.rows.whole, indices: d.indices.slice(start, size), cols: d.dimension, into: d.batch.whole)
            } else {
                d.device.gatherRows(d.rows.whole, indices: d.indices.slice(start, size), cols: d.dimension,
                                    scale: d.scale, shift: SampleStorage.gatherShift, into: d.batch.whole)
            }
            return RowBatch(x: d.batch.whole, valid: min(size, max(0, total - start)))
        }
    }
}
