import ArgumentParser
import AutoencoderKit
import Foundation

/// Whether `train` loads its data whole or streams it from disk (`--stream`, `--no-stream`, the memory budget),
/// and the blocks it streams in.
struct StreamOptions: ParsableArguments {
    @OptionGroup var choice: StreamChoice
    @Option(help: "Streaming: rows per block; the splits and each epoch's order are cut in blocks.") var blockRows = 4096
    @Option(help: "Streaming: blocks per shuffling window (rows are shuffled within a window; one window is read while another trains).")
    var windowBlocks = 4

    func validate() throws {
        guard blockRows > 0 else { throw ValidationError("--block-rows must be positive") }
        guard windowBlocks > 0 else { throw ValidationError("--window-blocks must be positive") }
    }

    /// The layout to stream `data` in, or nil to load it whole (``StreamChoice/reason(toStream:normalization:device:)``);
    /// the automatic choice to stream is printed when `announce`.
    func layout(for data: String, normalization: Normalizer.Method?, device: any Device, announce: Bool) throws -> StreamLayout? {
        guard let reason = try choice.reason(toStream: data, normalization: normalization, device: device) else { return nil }
        if announce && choice.stream == nil {
            Terminal.note(reason + ": streaming it from disk in blocks of \(blockRows) rows, shuffled within windows of \(windowBlocks) blocks (--no-stream loads it whole)")
        }
        return StreamLayout(blockRows: blockRows, windowBlocks: windowBlocks)
    }
}
