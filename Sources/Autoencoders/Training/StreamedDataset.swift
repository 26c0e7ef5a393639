import Compute
import Foundation

/// Rows streamed from disk (a ``RowSource``) to the device in chunks, with bounded memory: a data set larger than
/// host or device memory.
///
/// A pass over an order (``batches(order:dropLast:)``) cuts it into chunks of ``chunkRows`` consecutive
/// positions. A reader thread reads each chunk's rows from disk, as few runs of consecutive rows as the order
/// allows (a windowed epoch order, ``EpochOrder/windowed(blockRows:windowBlocks:)``, with chunks of one window,
/// reads whole blocks), places them in order, normalizes them, and hands them over; the trainer's thread uploads
/// a chunk into one of three device slots one chunk ahead of the batches that need it. So disk reads overlap
/// training, a batch is a view of (or a copy from) the device slots, and memory holds two host chunks and three
/// device chunks, whatever the size of the file. The trainer waits only where the disk is slower than training
/// (``waitSeconds``), at a chunk boundary.
///
/// A read that fails (a file truncated or rewritten during training) ends the pass: ``RowBatches/check()``
/// throws it, so a short epoch never passes for a whole one.
public final class StreamedDataset: BatchedRows {
    public let device: any Device
    /// Where the rows come from.
    public let source: any RowSource
    public let count: Int
    public let dimension: Int
    public let batchSize: Int
    /// Positions of an order read and uploaded at a time.
    public let chunkRows: Int
    /// The source rows of this data set's rows, in order (the part of a source a split takes).
    let ranges: [Range<Int>]
    /// This data set's first row in each range, and ``count`` at the end.
    private let rangeStarts: [Int]
    let normalizer: Normalizer?
    /// Three chunk slots, chunk c in slot c mod 3.
    private let ring: Buffer
    /// A batch assembled from two chunks, or padded.
    private let batch: Buffer
    /// The pass in progress; a new pass stops it (the passes share the slots).
    private weak var current: Stream?
    /// Seconds the trainer's thread has waited for the reader, over every pass.
    public private(set) var waitSeconds: Double = 0
    /// Rows read from disk, over every pass.
    public private(set) var rowsRead = 0

    /// Streams the rows `ranges` of `source` (default: all), normalized by `normalizer`, in batches of
    /// `batchSize` on `device`, reading `chunkRows` positions of an order at a time.
    public init(source: any RowSource, ranges: [Range<Int>]? = nil, normalizer: Normalizer? = nil,
                device: any Device, batchSize: Int, chunkRows: Int) throws {
        let ranges = (ranges ?? [0..<source.count]).filter { !$0.isEmpty }
        precondition(ranges.allSatisfy { $0.lowerBound >= 0 && $0.upperBound <= source.count }, "ranges outside the source")
        precondition(batchSize > 0 && chunkRows > 0, "batch and chunk sizes must be positive")
        if let normalizer, normalizer.dimension != source.dimension {
            throw DataError(file: source.name, .mismatch("normalizer fitted on \(normalizer.dimension) features, data has \(source.dimension)"))
        }
        self.device = device
        self.source = source
        self.ranges = ranges
        rangeStarts = ranges.reduce(into: [0]) { $0.append($0.last! + $1.count) }
        count = rangeStarts.last!
        dimension = source.dimension
        self.batchSize = batchSize
        self.chunkRows = chunkRows
        self.normalizer = normalizer
        ring = try device.makeBuffer(count: 3 * chunkRows * dimension, dtype: .float32)
        batch = try device.makeBuffer(count: batchSize * dimension, dtype: .float32)
    }

    /// Bytes of device memory the data set holds (three chunks and a batch).
    public var deviceBytes: Int { (3 * chunkRows + batchSize) * dimension * MemoryLayout<Float>.size }
    /// Bytes of host memory a pass holds (two chunks and a read buffer of at most ``maxRunRows`` rows).
    public var hostBytes: Int { (2 * chunkRows * dimension + min(chunkRows, Self.maxRunRows) * dimension) * MemoryLayout<Float>.size }
    /// The most consecutive rows read from disk at once.
    static let maxRunRows = 4096

    public func batches(order: RowOrder, dropLast: Bool) -> RowBatches {
        precondition(order.count <= count, "an order longer than the data set")
        current?.cancel()
        let whole = order.count / batchSize, partial = order.count % batchSize
        let batchCount = whole + (dropLast || partial == 0 ? 0 : 1)
        let stream = Stream(dataset: self, order: order)
        current = stream
        return RowBatches(batchCount: batchCount, cursor: stream)
    }

    /// A checksum of the source's name, size and shape and of the ranges taken (not of every value: the ranks
    /// of a data-parallel job each read only their rows).
    public func fingerprint() -> Double {
        let identity = "\(source.name) \(source.count) \(source.sampleShape) \(source.storedRowBytes) \(ranges)"
        return DataParallel.fingerprint(Data(identity.utf8))
    }

    /// The source row of row `row` of this data set.
    func sourceRow(_ row: Int) -> Int {
        var low = 0, high = ranges.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if rangeStarts[mid] <= row { low = mid } else { high = mid - 1 }
        }
        return ranges[low].lowerBound + (row - rangeStarts[low])
    }

    /// One pass: the reader thread's chunks, uploaded into the slots, cut into batches.
    private final class Stream: BatchCursor {
        let dataset: StreamedDataset
        let order: RowOrder
        let chunkCount: Int
        private let exchange: ChunkExchange
        private var uploaded = -1
        private var started = false
        private(set) var failure: (any Error)?

        init(dataset: StreamedDataset, order: RowOrder) {
            self.dataset = dataset
            self.order = order
            chunkCount = (order.count + dataset.chunkRows - 1) / dataset.chunkRows
            exchange = ChunkExchange(capacity: 2, chunkValues: dataset.chunkRows * dataset.dimension)
        }

        deinit { exchange.cancel() }

        func cancel() { exchange.cancel() }

        func batch(_ index: Int) -> RowBatch? {
            let d = dataset, b = d.batchSize, width = d.dimension, chunk = d.chunkRows
            let first = index * b, valid = min(b, order.count - first)
            guard valid > 0, failure == nil else { return nil }
            if !started {
                started = true
                uploaded = first / chunk - 1
                ChunkReader(dataset: d, order: order, firstChunk: first / chunk, exchange: exchange).start()
            }
            let lastChunk = (first + valid - 1) / chunk
            do {
                // the batch's chunks and one more, so the next batches find theirs on the device
                while uploaded < min(lastChunk + 1, chunkCount - 1) {
                    let start = DispatchTime.now().uptimeNanoseconds
                    let next = try exchange.take(chunk: uploaded + 1)
                    d.waitSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                    d.device.write(UnsafeBufferPointer(rebasing: next.values[0..<(next.rows * width)]),
                                   to: d.ring.slice(slot(uploaded + 1), next.rows * width))
                    d.rowsRead += next.rows
                    exchange.give(back: next)
                    uploaded += 1
                }
            } catch {
                failure = error
                return nil
            }
            if valid == b, first / chunk == lastChunk {
                return RowBatch(x: d.ring.slice(slot(lastChunk) + (first - lastChunk * chunk) * width, b * width), valid: b)
            }
            var position = first
            while position < first + valid {
                let c = position / chunk, end = min(first + valid, (c + 1) * chunk)
                d.device.copy(d.ring.slice(slot(c) + (position - c * chunk) * width, (end - position) * width),
                              to: d.batch.slice((position - first) * width, (end - position) * width))
                position = end
            }
            // padding rows repeat the batch's own rows
            for row in valid..<b {
                d.device.copy(d.batch.slice((row % valid) * width, width), to: d.batch.slice(row * width, width))
            }
            return RowBatch(x: d.batch.whole, valid: valid)
        }

        /// The first element of chunk `c`'s slot.
        private func slot(_ c: Int) -> Int { (c % 3) * dataset.chunkRows * dataset.dimension }
    }
}

/// A chunk of an order read from disk: `rows` rows in order, in `values`.
final class HostChunk: @unchecked Sendable {
    var index = 0
    var rows = 0
    let values: UnsafeMutableBufferPointer<Float>

    init(values count: Int) { values = .allocate(capacity: max(count, 1)) }
    deinit { values.deallocate() }
}

/// Hands chunks from the reader thread to the trainer's thread: at most `capacity` chunk buffers, recycled.
final class ChunkExchange: @unchecked Sendable {
    private let condition = NSCondition()
    private var free: [HostChunk]
    private var ready: [Int: HostChunk] = [:]
    private var failure: (any Error)?
    private(set) var cancelled = false

    init(capacity: Int, chunkValues: Int) {
        free = (0..<capacity).map { _ in HostChunk(values: chunkValues) }
    }

    /// Reader: an empty buffer, or nil once the pass is cancelled.
    func empty() -> HostChunk? {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty && !cancelled { condition.wait() }
        return cancelled ? nil : free.removeLast()
    }

    /// Reader: a filled chunk.
    func put(_ chunk: HostChunk) {
        condition.lock()
        ready[chunk.index] = chunk
        condition.broadcast()
        condition.unlock()
    }

    /// Reader: the read failed; the trainer's next ``take(chunk:)`` throws it.
    func fail(_ error: any Error) {
        condition.lock()
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    /// Trainer: chunk `index`, once read.
    func take(chunk index: Int) throws -> HostChunk {
        condition.lock()
        defer { condition.unlock() }
        while ready[index] == nil && failure == nil { condition.wait() }
        if let chunk = ready.removeValue(forKey: index) { return chunk }
        throw failure!
    }

    /// Trainer: a chunk uploaded, its buffer free again.
    func give(back chunk: HostChunk) {
        condition.lock()
        free.append(chunk)
        condition.broadcast()
        condition.unlock()
    }

    /// Stops the reader (the pass ended or was abandoned).
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}

/// The reader thread of one pass: chunk after chunk of the order, from `firstChunk` on.
private struct ChunkReader: @unchecked Sendable {
    let dataset: StreamedDataset
    let order: RowOrder
    let firstChunk: Int
    let exchange: ChunkExchange

    func start() {
        let thread = Thread { self.run() }
        thread.name = "autoencoderkit-reader"
        thread.start()
    }

    private func run() {
        let chunkRows = dataset.chunkRows, width = dataset.dimension
        let run = UnsafeMutableBufferPointer<Float>.allocate(capacity: min(chunkRows, StreamedDataset.maxRunRows) * width)
        defer { run.deallocate() }
        var c = firstChunk
        while c * chunkRows < order.count, let chunk = exchange.empty() {
            do {
                try fill(chunk, index: c, run: run)
            } catch {
                exchange.fail(error)
                return
            }
            exchange.put(chunk)
            c += 1
        }
    }

    /// Reads chunk `index`'s rows in runs of consecutive source rows, each to its positions in the chunk.
    private func fill(_ chunk: HostChunk, index: Int, run: UnsafeMutableBufferPointer<Float>) throws {
        let chunkRows = dataset.chunkRows, width = dataset.dimension, start = index * chunkRows
        let end = min(order.count, start + chunkRows)
        chunk.index = index
        chunk.rows = end - start
        // (source row, position in the chunk), by source row
        let wanted = order.rows(start..<end).enumerated().map { (row: dataset.sourceRow(Int($1)), position: $0) }
            .sorted { $0.row < $1.row }
        let maxRun = run.count / width
        var i = 0
        while i < wanted.count {
            let first = wanted[i].row
            var j = i
            // a run: rows first, first + 1, … (repeats of a row stay in it), at most maxRun rows
            while j + 1 < wanted.count, wanted[j + 1].row - first < maxRun,
                  wanted[j + 1].row == wanted[j].row || wanted[j + 1].row == wanted[j].row + 1 { j += 1 }
            let rows = wanted[j].row - first + 1
            try dataset.source.read(first..<(first + rows), into: run)
            for k in i...j {
                let from = (wanted[k].row - first) * width, to = wanted[k].position * width
                (chunk.values.baseAddress! + to).update(from: run.baseAddress! + from, count: width)
            }
            i = j + 1
        }
        dataset.normalizer?.apply(UnsafeMutableBufferPointer(rebasing: chunk.values[0..<(chunk.rows * width)]))
    }
}
