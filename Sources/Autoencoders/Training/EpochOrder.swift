/// The order in which a training epoch visits the rows, drawn from (seed, epoch).
public enum EpochOrder: Codable, Equatable, Sendable {
    /// A full permutation of the rows (``DeviceDataset/permutation(count:seed:epoch:)``): any row may follow any
    /// other. The order of data resident in memory.
    case permutation
    /// The rows cut into blocks of `blockRows` consecutive rows (the last may be shorter), the blocks in a
    /// shuffled order, and the rows permuted within each window of `windowBlocks` × `blockRows` consecutive
    /// positions of that sequence. The order of streamed data: one window is read, as whole blocks, while the one
    /// before trains.
    ///
    /// Unlike ``permutation``, two rows of one block always land in the same window or in neighbouring ones,
    /// so a batch mixes rows of at most `windowBlocks` + 1 blocks: the batches of an epoch are less independent
    /// of the file's layout than under a full permutation, and a window of many blocks brings them closer.
    case windowed(blockRows: Int, windowBlocks: Int)

    /// The rows of `count` in the order of epoch `epoch` (numbered from 0) of a run seeded `seed`: a windowed order
    /// is computed a window at a time as a pass reads it (``RowOrder``).
    public func order(count: Int, seed: UInt64, epoch: Int) -> RowOrder {
        switch self {
        case .permutation:
            return RowOrder(DeviceDataset.permutation(count: count, seed: seed, epoch: epoch))
        case .windowed(let blockRows, let windowBlocks):
            let epochKey = seed ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15) ^ 0x0B10_C5ED_0000_0001
            let blocks = (count + blockRows - 1) / blockRows
            return .windowed(count: count, blockOrder: SplitMix64.permutation(count: blocks, seed: epochKey).map { Int32($0) },
                             blockRows: blockRows, windowRows: blockRows * windowBlocks, key: epochKey)
        }
    }

    /// Positions per window: the stretch of the order within which rows are shuffled (the whole epoch for a
    /// permutation).
    public var windowRows: Int {
        switch self {
        case .permutation: return Int.max
        case .windowed(let blockRows, let windowBlocks): return blockRows * windowBlocks
        }
    }

    /// Checks the sizes.
    public func validate() throws {
        if case .windowed(let blockRows, let windowBlocks) = self, blockRows < 1 || windowBlocks < 1 {
            throw ConfigError.invalid("--block-rows and --window-blocks must be positive")
        }
    }
}
