import Foundation

/// Program binaries on disk, keyed by platform, device, driver, build options and source hash, so each
/// kernel family is compiled once per device and driver. The folder is `$AUTOENCODERKIT_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/autoencoderkit/kernels`, else `~/.cache/autoencoderkit/kernels`; set
/// `AUTOENCODERKIT_CACHE_DIR=off` to disable it. A cache that cannot be read or written is skipped.
struct KernelCache {
    let identity: String
    let directory: URL?

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

    /// Writes atomically (temporary file, then rename), so a concurrent reader never sees half a binary.
    func store(key: String, binary: [UInt8]) {
        guard let directory else { return }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(binary).write(to: directory.appendingPathComponent(key), options: .atomic)
        } catch {
            return
        }
    }
}
