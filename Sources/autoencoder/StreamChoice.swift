import ArgumentParser
import AutoencoderKit
import Foundation

/// `--stream`, `--no-stream` and `--memory-budget`: whether a `.npy` file or a folder of `.npy` shards is loaded
/// whole or streamed from disk in blocks.
struct StreamChoice: ParsableArguments {
    @Flag(inversion: .prefixedNo, help: "Stream a .npy file or a folder of .npy shards from disk in blocks instead of loading it whole (default: stream when it exceeds the memory budget).")
    var stream: Bool?
    @Option(help: "Memory budget in MB for data loaded whole (default: half the device's memory, at most a quarter of RAM).")
    var memoryBudget: Double?

    func validate() throws {
        if let memoryBudget, memoryBudget <= 0 { throw ValidationError("--memory-budget must be positive (MB)") }
    }

    /// Whether `data` streams: nil to load it whole, else the reason, a note that the automatic choice prints.
    /// Automatic (neither `--stream` nor `--no-stream`) for `.npy` files and shard folders: streamed when the size
    /// they would take loaded whole exceeds the budget. Loaded whole, a uint8 or float16 file that `normalization`
    /// leaves as it is (images by default) keeps its values as stored; everything else takes float32.
    ///
    /// - Throws: `ValidationError` for `--stream` with data that is not a `.npy` file or folder; `DataError` for
    ///   a bad file.
    func reason(toStream data: String, normalization: Normalizer.Method?, device: any Device) throws -> String? {
        guard stream != false else { return nil }
        guard Self.isStreamable(data) else {
            if stream == true { throw ValidationError("--stream reads a .npy file or a folder of .npy shards, not \(data)") }
            return nil
        }
        if stream == true { return "--stream" }
        let source = try openRowSource(URL(fileURLWithPath: data))
        let stored = source.storedType == .float32 ? nil : source.storedType.rawValue
        let kept = (normalization ?? (source.sampleShape.count == 3 ? .none : .minmax)) == .none ? stored : nil
        let bytes = kept == nil ? source.count * source.dimension * MemoryLayout<Float>.size : source.count * source.storedRowBytes
        let budget = memoryBudget.map { Int($0 * 1e6) }
            ?? min(device.info.memoryBytes / 2, Int(ProcessInfo.processInfo.physicalMemory) / 4)
        guard bytes > budget else { return nil }
        return "data: \(Terminal.bytes(bytes)) as \(kept ?? "float32"), over the memory budget of \(Terminal.bytes(budget))"
            + (memoryBudget == nil ? " (half of \(device.info.selector)'s memory, at most a quarter of RAM)" : "")
    }

    /// The choice for a run's own splits when `--stream` named another file (`--data`, `--validation`): the run's
    /// own layout decides (a streamed run's splits stream, a resident run's load whole); `--no-stream` stays.
    var forRunSplits: StreamChoice {
        var choice = self
        if choice.stream == true { choice.stream = nil }
        return choice
    }

    /// A `.npy` path or a folder.
    static func isStreamable(_ data: String) -> Bool {
        var isDirectory: ObjCBool = false
        return data.lowercased().hasSuffix(".npy")
            || (FileManager.default.fileExists(atPath: data, isDirectory: &isDirectory) && isDirectory.boolValue)
    }
}
