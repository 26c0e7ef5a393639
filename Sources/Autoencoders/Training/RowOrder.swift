/// The order in which a pass visits a data set's rows, computed a stretch at a time: a pass over rows streamed from
/// disk holds only the stretch it reads next, never the whole order (4 bytes a row, 400 MB for 100 million rows).
public struct RowOrder: Sendable {
    /// Positions in the order.
    public let count: Int
    private let kind: Kind

    private indirect enum Kind: Sendable {
        /// 0, 1, …, count − 1.
        case sequential
        /// The rows as given.
        case explicit([Int32])
        /// ``EpochOrder/windowed(blockRows:windowBlocks:)``: blocks in `blockOrder`, whose first positions are
        /// `blockStarts`, then each window of `windowRows` positions shuffled by a generator keyed by `key` and
        /// the window's number.
        case windowed(blockOrder: [Int32], blockStarts: [Int], blockRows: Int, windowRows: Int, key: UInt64)
        /// Positions r·b ..< (r+1)·b of every whole stretch of `globalBatch` positions of `base`, b = globalBatch / ranks.
        case local(base: RowOrder, rank: Int, ranks: Int, globalBatch: Int)
    }

    private init(count: Int, kind: Kind) {
        self.count = count
        self.kind = kind
    }

    /// The rows `rows`, in that order.
    public init(_ rows: [Int32]) { self.init(count: rows.count, kind: .explicit(rows)) }

    /// The rows 0 ..< `count` in turn (evaluation passes).
    public static func sequential(_ count: Int) -> RowOrder { RowOrder(count: count, kind: .sequential) }

    /// `count` rows cut into blocks of `blockRows` (the last may be shorter) taken in `blockOrder`, each window of
    /// `windowRows` positions then shuffled with a Fisher–Yates shuffle driven by `SplitMix64` keyed by `key` and
    /// the window's number.
    static func windowed(count: Int, blockOrder: [Int32], blockRows: Int, windowRows: Int, key: UInt64) -> RowOrder {
        let starts = blockOrder.reduce(into: [0]) { starts, block in
            starts.append(starts.last! + min(count, (Int(block) + 1) * blockRows) - Int(block) * blockRows)
        }
        return RowOrder(count: count, kind: .windowed(blockOrder: blockOrder, blockStarts: starts, blockRows: blockRows,
                                                      windowRows: windowRows, key: key))
    }

    /// This rank's part of the order: positions r·b ..< (r+1)·b of each whole stretch of `globalBatch`
    /// positions, b = globalBatch / ranks (a final partial stretch is left out).
    public func local(rank: Int, ranks: Int, globalBatch: Int) -> RowOrder {
        precondition(ranks > 0 && globalBatch % ranks == 0 && (0..<ranks).contains(rank), "rank \(rank) of \(ranks), global batch \(globalBatch)")
        guard ranks > 1 else { return self }
        return RowOrder(count: count / globalBatch * (globalBatch / ranks),
                        kind: .local(base: self, rank: rank, ranks: ranks, globalBatch: globalBatch))
    }

    /// The rows at positions `range`, in order.
    public func rows(_ range: Range<Int>) -> [Int32] {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "positions \(range) outside an order of \(count)")
        switch kind {
        case .sequential:
            return range.map { Int32($0) }
        case .explicit(let rows):
            return Array(rows[range])
        case .windowed(_, _, _, let windowRows, _):
            var rows: [Int32] = []
            rows.reserveCapacity(range.count)
            var position = range.lowerBound
            while position < range.upperBound {
                let window = position / windowRows, start = window * windowRows
                let end = min(range.upperBound, start + windowRows)
                rows += windowRowsAt(window)[(position - start)..<(end - start)]
                position = end
            }
            return rows
        case .local(let base, let rank, let ranks, let globalBatch):
            guard !range.isEmpty else { return [] }
            let local = globalBatch / ranks
            func global(_ p: Int) -> Int { p / local * globalBatch + rank * local + p % local }
            let first = global(range.lowerBound), stretch = base.rows(first..<(global(range.upperBound - 1) + 1))
            return range.map { stretch[global($0) - first] }
        }
    }

    /// Every row of the order.
    public var all: [Int32] { rows(0..<count) }

    /// The rows of window `window` of a windowed order, shuffled.
    private func windowRowsAt(_ window: Int) -> [Int32] {
        guard case .windowed(let blockOrder, let blockStarts, let blockRows, let windowRows, let key) = kind else {
            preconditionFailure("not a windowed order")
        }
        let start = window * windowRows, end = min(count, start + windowRows)
        var rows: [Int32] = []
        rows.reserveCapacity(end - start)
        // the last block starting at or before `start`
        var low = 0, high = blockOrder.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if blockStarts[mid] <= start { low = mid } else { high = mid - 1 }
        }
        var block = low, position = start
        while position < end {
            let first = Int(blockOrder[block]) * blockRows + (position - blockStarts[block])
            let taken = min(end, blockStarts[block + 1]) - position
            rows += (first..<(first + taken)).map { Int32($0) }
            position += taken
            block += 1
        }
        var generator = SplitMix64(seed: key ^ (UInt64(window) &* 0xD6E8_FEB8_6659_FD93))
        for i in stride(from: rows.count - 1, to: 0, by: -1) {
            rows.swapAt(i, Int(generator.next(upperBound: UInt64(i + 1))))
        }
        return rows
    }
}
