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
/// A uint8 or float16 source that the normalizer leaves as it is (images, by default) stays as stored in the host
/// chunks and the device slots, a quarter (half) of their float32 bytes, and each batch is converted to float32 as
/// it is gathered from the slots, as ``DeviceDataset`` does.
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
    /// The element type rows are kept in, on the host and on the device: the source's stored type when there is
    /// nothing to normalize, else float32.
    let storage: DType
    /// Bytes a row takes in a chunk.
    var rowBytes: Int { dimension * storage.size }
    /// Three chunk slots, chunk c in slot c mod 3.
    private let ring: Buffer
    /// 0, 1, … over the slots' rows, for gathering a stored batch from them (nil for float32 rows).
    private let ringRows: Buffer?
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
        storage = (normalizer.map { $0.method == .none } ?? true) ? source.storedType : .float32
        ring = try device.makeBuffer(count: 3 * chunkRows * dimension, dtype: storage)
        ringRows = storage == .float32 ? nil : try device.makeBuffer((0..<(3 * chunkRows)).map { Int32($0) })
        batch = try device.makeBuffer(count: batchSize * dimension, dtype: .float32)
    }

    /// Bytes of device memory the data set holds (three chunks, a batch, and for stored rows the slots' row indices).
    public var deviceBytes: Int {
        3 * chunkRows * rowBytes + batchSize * dimension * MemoryLayout<Float>.size + (ringRows == nil ? 0 : 3 * chunkRows * 4)
    }
    /// Bytes of host memory a pass holds (two chunks and a read buffer of at most ``maxRunRows`` rows).
    public var hostBytes: Int { (2 * chunkRows + min(chunkRows, Self.maxRunRows)) * rowBytes }
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
            exchange = ChunkExchange(capacity: 2, chunkBytes: dataset.chunkRows * dataset.rowBytes)
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
                    d.device.write(UnsafeRawBufferPointer(rebasing: next.bytes[0..<(next.rows * d.rowBytes)]),
                                   to: d.ring.slice(slot(uploaded + 1), next.rows * width))
                    d.rowsRead += next.rows
                    exchange.give(back: next)
                    uploaded += 1
                }
            } catch {
                failure = error
                return nil
            }
            if d.storage == .float32, valid == b, first / chunk == lastChunk {
                return RowBatch(x: d.ring.slice(slot(lastChunk) + (first - lastChunk * chunk) * width, b * width), valid: b)
            }
            var position = first
            while position < first + valid {
                let c = position / chunk, end = min(first + valid, (c + 1) * chunk)
                let from = slot(c) + (position - c * chunk) * width, to = d.batch.slice((position - first) * width, (end - position) * width)
                if let ringRows = d.ringRows {
                    d.device.gatherRows(d.ring.whole, indices: ringRows.slice(from / width, end - position), cols: width,
                                        scale: SampleStorage.gatherScale(d.storage), shift: SampleStorage.gatherShift, into: to)
                } else {
                    d.device.copy(d.ring.slice(from, (end - position) * width), to: to)
                }
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

/// A chunk of an order read from disk: `rows` rows in order, in `bytes` (of the data set's ``StreamedDataset/storage``).
final class HostChunk: @unchecked Sendable {
    var index = 0
    var rows = 0
    let bytes: UnsafeMutableRawBufferPointer

    init(bytes count: Int) { bytes = .allocate(byteCount: max(count, 4), alignment: 16) }
    deinit { bytes.deallocate() }
}

/// Hands chunks from the reader thread to the trainer's thread: at most `capacity` chunk buffers, recycled.
final class ChunkExchange: @unchecked Sendable {
    private let condition = NSCondition()
    private var free: [HostChunk]
    private var ready: [Int: HostChunk] = [:]
    private var failure: (any Error)?
    private(set) var cancelled = false

    init(capacity: Int, chunkBytes: Int) {
        free = (0..<capacity).map { _ in HostChunk(bytes: chunkBytes) }
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
        let chunkRows = dataset.chunkRows
        let run = UnsafeMutableRawBufferPointer.allocate(byteCount: min(chunkRows, StreamedDataset.maxRunRows) * dataset.rowBytes,
                                                         alignment: 16)
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
    private func fill(_ chunk: HostChunk, index: Int, run: UnsafeMutableRawBufferPointer) throws {
        let chunkRows = dataset.chunkRows, rowBytes = dataset.rowBytes, start = index * chunkRows
        let end = min(order.count, start + chunkRows)
        chunk.index = index
        chunk.rows = end - start
        // (source row, position in the chunk), by source row
        let wanted = order.rows(start..<end).enumerated().map { (row: dataset.sourceRow(Int($1)), position: $0) }
            .sorted { $0.row < $1.row }
        let maxRun = run.count / rowBytes
        var i = 0
        while i < wanted.count {
            let first = wanted[i].row
            var j = i
            // a run: rows first, first + 1, … (repeats of a row stay in it), at most maxRun rows
            while j + 1 < wanted.count, wanted[j + 1].row - first < maxRun,
                  wanted[j + 1].row == wanted[j].row || wanted[j + 1].row == wanted[j].row + 1 { j += 1 }
            let rows = wanted[j].row - first + 1
            if dataset.storage == .float32 {
                try dataset.source.readFloats(first..<(first + rows), into: run)
            } else {
                try dataset.source.readStored(first..<(first + rows), into: run)
            }
            for k in i...j {
                let from = (wanted[k].row - first) * rowBytes, to = wanted[k].position * rowBytes
                (chunk.bytes.baseAddress! + to).copyMemory(from: run.baseAddress! + from, byteCount: rowBytes)
            }
            i = j + 1
        }
        if dataset.storage == .float32, let normalizer = dataset.normalizer {
            let floats = chunk.bytes.baseAddress!.assumingMemoryBound(to: Float.self)
            normalizer.apply(UnsafeMutableBufferPointer(start: floats, count: chunk.rows * dataset.dimension))
        }
    }
}
