import ArgumentParser
import AutoencoderKit
import Foundation

/// Data a command reads a batch at a time from disk instead of loading it whole: a streamed run's own split,
/// or a `--data` file or shard folder large enough to stream, through the run's normalizer.
struct StreamedData {
    let source: any RowSource
    /// The source rows taken, in order.
    let ranges: [Range<Int>]
    let normalizer: Normalizer
    /// The data's name in messages.
    let name: String
    /// Rows read and uploaded at a time.
    let chunkRows: Int

    /// Rows taken.
    var count: Int { ranges.reduce(0) { $0 + $1.count } }

    /// Rows of a `--data` source of `dimension` features read at a time: 16,384 (four blocks of the default
    /// 4,096, as a streamed run with the default layout reads them), fewer where a chunk would pass 64 MB as float32.
    static func sourceChunkRows(dimension: Int) -> Int {
        max(1, min(16_384, (64 << 20) / (MemoryLayout<Float>.size * max(dimension, 1))))
    }

    /// `source` (a `--data` argument, nil for the run's own data) streamed, or nil to load it whole: the run's
    /// own data streams for a run that streamed it (its `split`; `--no-stream` loads the split whole), another
    /// `.npy` file or shard folder when `choice` says so, every row of it in file order (the automatic choice
    /// printed as a note).
    ///
    /// - Throws: `DataError` for a bad file or samples of another size than the run's; `ValidationError` for
    ///   `--stream` on the own data of a run that loaded it whole (its splits are rows, not blocks).
    static func open(_ source: String?, for config: RunConfig, split: PreparedData.Split, choice: StreamChoice,
                     device: any Device) throws -> StreamedData? {
        let normalizer = config.data.normalizer
        guard let source, source != config.data.source else {
            guard choice.stream != false else { return nil }
            guard let splits = try StreamedSplits.load(for: config) else {
                if choice.stream == true {
                    throw ValidationError("--stream: this run loaded its data whole, so its splits are single rows, not blocks that stream; give --data FILE.npy")
                }
                return nil
            }
            return StreamedData(source: splits.source, ranges: splits.ranges(of: split), normalizer: normalizer,
                                name: splits.name(of: split) + " (streamed)", chunkRows: splits.layout.epochOrder.windowRows)
        }
        guard let reason = try choice.reason(toStream: source, normalization: normalizer.method, device: device) else { return nil }
        if choice.stream == nil { Terminal.note(reason + ": streaming it from disk (--no-stream loads it whole)") }
        let rows = try openRowSource(URL(fileURLWithPath: source))
        guard rows.dimension == normalizer.dimension else {
            throw DataError(file: source, .mismatch("samples have \(rows.dimension) features, the run was trained on \(normalizer.dimension)"))
        }
        return StreamedData(source: rows, ranges: [0..<rows.count], normalizer: normalizer,
                            name: rows.name + " (streamed)", chunkRows: sourceChunkRows(dimension: rows.dimension))
    }

    /// The rows on `device` in batches of `batchSize`.
    func rows(device: any Device, batchSize: Int) throws -> StreamedDataset {
        try StreamedDataset(source: source, ranges: ranges, normalizer: normalizer, device: device, batchSize: batchSize,
                            chunkRows: max(batchSize, chunkRows))
    }
}
