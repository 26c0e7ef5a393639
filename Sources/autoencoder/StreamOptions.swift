import ArgumentParser
import AutoencoderKit
import Foundation

/// Whether `train` loads its data whole or streams it from disk (`--stream`, `--no-stream`, the memory budget),
/// and the blocks it streams in.
struct StreamOptions: ParsableArguments {
    @Flag(inversion: .prefixedNo, help: "Stream a .npy file or a folder of .npy shards from disk in blocks instead of loading it whole (default: stream when it exceeds the memory budget).")
    var stream: Bool?
    @Option(help: "Memory budget in MB for data loaded whole (default: half the device's memory, at most a quarter of RAM).")
    var memoryBudget: Double?
    @Option(help: "Streaming: rows per block; the splits and each epoch's order are cut in blocks.") var blockRows = 4096
    @Option(help: "Streaming: blocks per shuffling window (rows are shuffled within a window; one window is read while another trains).")
    var windowBlocks = 4

    func validate() throws {
        guard blockRows > 0 else { throw ValidationError("--block-rows must be positive") }
        guard windowBlocks > 0 else { throw ValidationError("--window-blocks must be positive") }
        if let memoryBudget, memoryBudget <= 0 { throw ValidationError("--memory-budget must be positive (MB)") }
    }

    /// The layout to stream `data` in, or nil to load it whole. Automatic (neither `--stream` nor `--no-stream`)
    /// for `.npy` files and shard folders: streamed when the size they would take loaded whole exceeds the budget,
    /// which `announce` prints. Loaded whole, a uint8 or float16 file that `normalization` leaves as it is (images
    /// by default) keeps its values as stored; everything else takes float32.
    func layout(for data: String, normalization: Normalizer.Method?, device: any Device, announce: Bool) throws -> StreamLayout? {
        let layout = StreamLayout(blockRows: blockRows, windowBlocks: windowBlocks)
        guard stream != false else { return nil }
        guard Self.isStreamable(data) else {
            if stream == true { throw ValidationError("--stream reads a .npy file or a folder of .npy shards, not \(data)") }
            return nil
        }
        if stream == true { return layout }
        let source = try openRowSource(URL(fileURLWithPath: data))
        let stored = (source as? NPYRowFile).flatMap { ["|u1": "uint8", "<f2": "float16"][$0.layout.descr] }
        let keepsStored = stored != nil && (normalization ?? (source.sampleShape.count == 3 ? .none : .minmax)) == .none
        let bytes = keepsStored ? source.count * source.storedRowBytes : source.count * source.dimension * MemoryLayout<Float>.size
        let budget = memoryBudget.map { Int($0 * 1e6) }
            ?? min(device.info.memoryBytes / 2, Int(ProcessInfo.processInfo.physicalMemory) / 4)
        guard bytes > budget else { return nil }
        if announce {
            Terminal.note("data: \(Terminal.bytes(bytes)) as \(keepsStored ? stored! : "float32"), over the memory budget of \(Terminal.bytes(budget))"
                          + (memoryBudget == nil ? " (half of \(device.info.selector)'s memory, at most a quarter of RAM)" : "")
                          + ": streaming it from disk in blocks of \(blockRows) rows, shuffled within windows of \(windowBlocks) blocks (--no-stream loads it whole)")
        }
        return layout
    }

    /// A `.npy` path or a folder.
    static func isStreamable(_ data: String) -> Bool {
        var isDirectory: ObjCBool = false
        return data.lowercased().hasSuffix(".npy")
            || (FileManager.default.fileExists(atPath: data, isDirectory: &isDirectory) && isDirectory.boolValue)
    }
}
