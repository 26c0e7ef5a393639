import Compute
import Foundation

/// How a run streamed its data: the block size its splits and epoch order are cut in. Stored in `config.json`
/// (``DataDescription/stream``) so later commands take the same rows for each split.
public struct StreamLayout: Codable, Equatable, Sendable {
    /// Rows per block.
    public var blockRows: Int
    /// Blocks per shuffling window of a training epoch (``EpochOrder/windowed(blockRows:windowBlocks:)``).
    public var windowBlocks: Int

    public init(blockRows: Int, windowBlocks: Int) {
        self.blockRows = blockRows
        self.windowBlocks = windowBlocks
    }

    /// The epoch order of a streamed run.
    public var epochOrder: EpochOrder { .windowed(blockRows: blockRows, windowBlocks: windowBlocks) }
}

/// A run's data streamed from a `.npy` file or a folder of shards: which rows each split takes, as whole
/// blocks, and the normalizer fitted in a pass over the training rows, so nothing is held in memory whole.
///
/// The test and validation splits are blocks drawn by a seeded shuffle (a `testFraction` share of the blocks,
/// then a `validationFraction` share of the rest), not single rows as for resident data: a split is then read
/// as long runs of rows.
public struct StreamedSplits: Sendable {
    public let source: any RowSource
    public let layout: StreamLayout
    /// Source rows of each split, in order.
    public let train: [Range<Int>], validation: [Range<Int>], test: [Range<Int>]
    public let normalizer: Normalizer
    public let description: DataDescription

    /// Opens `path` and splits it. The normalizer is `fitted` (a trained run's own) or fitted now on the training
    /// rows with `normalization`, where nil keeps images (3-D samples) as they are and maps table columns to
    /// [0, 1] (min-max), as resident data is normalized.
    ///
    /// - Throws: `DataError` for a bad file or folder (``openRowSource(_:)``), or when a split would be empty.
    public static func load(source path: String, normalization: Normalizer.Method?, fitted: Normalizer? = nil,
                            testFraction: Double, validationFraction: Double, seed: UInt64,
                            layout: StreamLayout) throws -> StreamedSplits {
        let source = try openRowSource(URL(fileURLWithPath: path))
        let blocks = (source.count + layout.blockRows - 1) / layout.blockRows
        let order = SplitMix64.permutation(count: blocks, seed: seed ^ 0x5743_EA11)
        let testBlocks = testFraction > 0 ? max(1, Int((Double(blocks) * testFraction).rounded())) : 0
        let validationBlocks = validationFraction > 0
            ? max(1, Int((Double(blocks - testBlocks) * validationFraction).rounded())) : 0
        guard testBlocks + validationBlocks < blocks else {
            throw DataError(file: path, .invalidArgument("\(source.count) rows make \(blocks) blocks of \(layout.blockRows): too few for a test and a validation split and training blocks (lower --block-rows)"))
        }
        func ranges(_ chosen: ArraySlice<Int>) -> [Range<Int>] {
            chosen.sorted().reduce(into: [Range<Int>]()) { ranges, block in
                let rows = (block * layout.blockRows)..<min(source.count, (block + 1) * layout.blockRows)
                if let last = ranges.last, last.upperBound == rows.lowerBound {
                    ranges[ranges.count - 1] = last.lowerBound..<rows.upperBound
                } else {
                    ranges.append(rows)
                }
            }
        }
        let test = ranges(order[..<testBlocks])
        let validation = ranges(order[testBlocks..<(testBlocks + validationBlocks)])
        let train = ranges(order[(testBlocks + validationBlocks)...])
        let method = normalization ?? (source.sampleShape.count == 3 ? .none : .minmax)
        let normalizer = try fitted ?? Normalizer(method, fittedOn: source, ranges: train, blockRows: layout.blockRows)
        guard normalizer.dimension == source.dimension else {
            throw DataError(file: path, .mismatch("samples have \(source.dimension) features, the run was trained on \(normalizer.dimension)"))
        }
        var description = DataDescription(source: path, csv: CSVOptions(), shape: source.sampleShape, normalizer: normalizer,
                                          testFraction: testFraction)
        description.stream = layout
        return StreamedSplits(source: source, layout: layout, train: train, validation: validation, test: test,
                              normalizer: normalizer, description: description)
    }

    /// The splits a streamed run trained on (its seed, fractions, layout and fitted normalizer), or nil for a
    /// run whose data was loaded whole.
    public static func load(for config: RunConfig) throws -> StreamedSplits? {
        let description = config.data
        guard let layout = description.stream else { return nil }
        return try load(source: description.source, normalization: nil, fitted: description.normalizer,
                        testFraction: description.testFraction, validationFraction: config.training.validationFraction,
                        seed: config.training.seed, layout: layout)
    }

    /// The source rows of a part of the run's data, as ``PreparedData/load(source:for:split:csv:)`` takes it for
    /// resident data: training and validation together for `.train`, the training rows for `.training`, the
    /// validation rows (the training rows when the run kept none) for `.validation`, every row for `.all`.
    public func ranges(of split: PreparedData.Split) -> [Range<Int>] {
        switch split {
        case .test: return test
        case .train: return (train + validation).sorted { $0.lowerBound < $1.lowerBound }
        case .training: return train
        case .all: return [0..<source.count]
        case .validation: return validation.isEmpty ? train : validation
        }
    }

    /// The name of a part of the run's data in messages: the file or folder's name, with `-test` or
    /// `-validation` for those splits.
    public func name(of split: PreparedData.Split) -> String {
        let name = URL(fileURLWithPath: description.source).lastPathComponent
        switch split {
        case .test: return name + "-test"
        case .validation: return name + "-validation"
        case .train, .training, .all: return name
        }
    }

    /// The rows `ranges` loaded whole and normalized (a split small enough for memory); bytes and halves that the
    /// normalizer leaves as they are stay as stored.
    public func loadAll(_ ranges: [Range<Int>], name: String) throws -> Dataset {
        try normalizer.apply(to: source.load(ranges, name: name))
    }

    /// Whether every normalized training value satisfies `predicate`, read a block at a time.
    public func trainingValues(allSatisfy predicate: (Float) -> Bool) throws -> Bool {
        var satisfied = true
        try source.forEachBlock(of: train, blockRows: layout.blockRows) { rows in
            guard satisfied else { return }
            normalizer.apply(rows)
            satisfied = rows.allSatisfy(predicate)
        }
        return satisfied
    }

    /// Rows in each split.
    public var counts: (train: Int, validation: Int, test: Int) {
        func rows(_ ranges: [Range<Int>]) -> Int { ranges.reduce(0) { $0 + $1.count } }
        return (rows(train), rows(validation), rows(test))
    }

    /// The streamed data set of a split, normalized, in batches of `batchSize` on `device`, read a window of the
    /// layout's epoch order at a time (divided by `ranks`, the data-parallel ranks that each take a share).
    public func dataset(_ ranges: [Range<Int>], device: any Device, batchSize: Int, ranks: Int = 1) throws -> StreamedDataset {
        try StreamedDataset(source: source, ranges: ranges, normalizer: normalizer, device: device, batchSize: batchSize,
                            chunkRows: max(batchSize, layout.epochOrder.windowRows / max(ranks, 1)))
    }
}
