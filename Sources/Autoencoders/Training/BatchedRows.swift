import Compute

/// Rows a model takes batches from: resident on its device (``DeviceDataset``) or streamed from disk
/// (``StreamedDataset``). Training, evaluation and the latents' upkeep read data only through this.
public protocol BatchedRows: AnyObject {
    /// The device the batches are gathered on.
    var device: any Device { get }
    /// Number of rows.
    var count: Int { get }
    /// Features per row.
    var dimension: Int { get }
    /// Rows per batch.
    var batchSize: Int { get }
    /// The batches over the rows of `order` (at most ``count`` positions). With `dropLast` a final partial batch
    /// is skipped (training); otherwise it is padded by repeating rows of `order` (evaluation), and callers read
    /// back only its first ``RowBatch/valid`` rows' results.
    func batches(order: RowOrder, dropLast: Bool) -> RowBatches
    /// A checksum of what the rows are, equal on two processes that hold the same data (compared by
    /// data-parallel ranks at start).
    func fingerprint() -> Double
}

extension BatchedRows {
    /// The batches over every row in order (evaluation passes).
    public func inOrder() -> RowBatches { batches(order: .sequential(count), dropLast: false) }

    /// The batches over the row indices `rows`, in the order given, as ``batches(order:dropLast:)-(RowOrder,_)``.
    public func batches(order rows: [Int32], dropLast: Bool) -> RowBatches { batches(order: RowOrder(rows), dropLast: dropLast) }
}

/// One batch on the device: the gathered rows and how many of them are real (the rest pad an evaluation batch).
public struct RowBatch {
    /// batchSize × dimension rows; gathering the next batch may overwrite them.
    public let x: BufferSlice
    /// Rows of ``x`` that belong to the order (the rest repeat earlier rows).
    public let valid: Int
}

/// Produces the batches of one pass, one after another, for ``RowBatches``.
protocol BatchCursor: AnyObject {
    /// Batch number `index` of the pass; indices only increase from one call to the next.
    func batch(_ index: Int) -> RowBatch?
    /// Why the pass ended before its last batch (a streamed file that changed), or nil.
    var failure: (any Error)? { get }
}

/// The batches of one pass over ``BatchedRows``.
public struct RowBatches: Sequence, IteratorProtocol {
    /// Number of batches in the pass.
    public let batchCount: Int
    private let cursor: any BatchCursor
    private var position = 0

    init(batchCount: Int, cursor: any BatchCursor) {
        self.batchCount = batchCount
        self.cursor = cursor
    }

    /// Passes over the next `count` batches without gathering them (continuing an interrupted epoch).
    public mutating func skip(_ count: Int) {
        position = Swift.min(batchCount, position + Swift.max(count, 0))
    }

    public mutating func next() -> RowBatch? {
        guard position < batchCount, let batch = cursor.batch(position) else { return nil }
        position += 1
        return batch
    }

    /// Throws what ended the pass early, if anything did: a pass that stops short must not pass for a whole one.
    public func check() throws {
        if let failure = cursor.failure { throw failure }
    }
}
