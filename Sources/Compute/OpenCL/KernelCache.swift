import Foundation

/// Program binaries on disk, keyed by platform, device, driver, build options and source hash, so each
/// kernel family is compiled once per device and driver. The folder is `$AUTOENCODERKIT_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/autoencoderkit/kernels`, else `~/.cache/autoencoderkit/kernels`; set
/// `AUTOENCODERKIT_CACHE_DIR=off` to disable it. A cache that cannot be read or written is skipped.
struct KernelCache {
    /// Platform, device name, vendor and driver: what a binary is valid for.
    let identity: String
    /// The cache folder, nil when caching is off.
    let directory: URL?
}

extension KernelCache {
    init(platform: String, device: DeviceInfo) {
        identity = [platform, device.name, device.vendor, device.driver].joined(separator: "\u{1F}")
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["AUTOENCODERKIT_CACHE_DIR"] {
            directory = explicit == "off" || explicit.isEmpty ? nil : URL(fileURLWithPath: explicit)
        } else if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            directory = URL(fileURLWithPath: xdg).appendingPathComponent("autoencoderkit/kernels")
        } else {
            directory = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/autoencoderkit/kernels")
        }
    }

    /// The file name for a program: a 64-bit FNV-1a hash of everything the binary depends on.
    func key(source: String, options: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (identity + "\u{1F}" + options + "\u{1F}" + source).utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return String(hash, radix: 16) + ".bin"
    }

    func load(key: String) -> [UInt8]? {
        guard let directory, let data = FileManager.default.contents(atPath: directory.appendingPathComponent(key).path),
              !data.isEmpty else { return nil }
        return [UInt8](data)
    }

    /// The build log stored beside the binary `key` (empty when there is none).
    func loadLog(key: String) -> String {
        guard let directory, let data = FileManager.default.contents(atPath: directory.appendingPathComponent(Self.logName(key)).path)
        else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Writes the binary and its build log atomically (temporary file, then rename), so a concurrent reader never
    /// sees half a binary; the log first, so a binary never lacks the log it was built with.
    func store(key: String, binary: [UInt8], log: String) {
        guard let directory else { return }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(log.utf8).write(to: directory.appendingPathComponent(Self.logName(key)), options: .atomic)
            try Data(binary).write(to: directory.appendingPathComponent(key), options: .atomic)
        } catch {
            return
        }
    }

    /// `K.log` for the binary `K.bin`.
    private static func logName(_ key: String) -> String {
        (key.hasSuffix(".bin") ? String(key.dropLast(4)) : key) + ".log"
    }
}
