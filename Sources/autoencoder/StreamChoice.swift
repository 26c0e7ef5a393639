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
    /// Automatic (neither `--stream` nor `--no-stream`) for `.npy` files and shard folders: streamed when their
    /// float32 size exceeds the budget.
    ///
    /// - Throws: `ValidationError` for `--stream` with data that is not a `.npy` file or folder; `DataError` for
    ///   a bad file.
    func reason(toStream data: String, device: any Device) throws -> String? {
        guard stream != false else { return nil }
        guard Self.isStreamable(data) else {
            if stream == true { throw ValidationError("--stream reads a .npy file or a folder of .npy shards, not \(data)") }
            return nil
        }
        if stream == true { return "--stream" }
        let source = try openRowSource(URL(fileURLWithPath: data))
        let bytes = source.count * source.dimension * MemoryLayout<Float>.size
        let budget = memoryBudget.map { Int($0 * 1e6) }
            ?? min(device.info.memoryBytes / 2, Int(ProcessInfo.processInfo.physicalMemory) / 4)
        guard bytes > budget else { return nil }
        return "data: \(Self.megabytes(bytes)) as float32, over the memory budget of \(Self.megabytes(budget))"
            + (memoryBudget == nil ? " (half of \(device.info.selector)'s memory, at most a quarter of RAM)" : "")
    }

    /// A `.npy` path or a folder.
    static func isStreamable(_ data: String) -> Bool {
        var isDirectory: ObjCBool = false
        return data.lowercased().hasSuffix(".npy")
            || (FileManager.default.fileExists(atPath: data, isDirectory: &isDirectory) && isDirectory.boolValue)
    }

    /// `bytes` in kB, MB or GB, three significant digits.
    private static func megabytes(_ bytes: Int) -> String {
        let (value, unit) = bytes >= 1_000_000_000 ? (Double(bytes) / 1e9, "GB") : bytes >= 1_000_000 ? (Double(bytes) / 1e6, "MB") : (Double(bytes) / 1e3, "kB")
        return String(format: "%.3g %@", value, unit)
    }
}
