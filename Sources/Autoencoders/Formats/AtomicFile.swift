import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file writes that never leave a half-written file behind.
///
/// The bytes go to a temporary file in the destination's directory, are flushed with `fsync`, and the
/// temporary file is renamed over the destination (atomic on POSIX file systems); the directory is then
/// synced so the rename itself survives a crash. A reader sees the old file or the new one, never a mix.
public enum AtomicFile {
    /// Writes `bytes` to `url` atomically, replacing any existing file; the new file has mode 0644.
    ///
    /// - Throws: `DataError.writeFailed` naming the destination and the system error.
    public static func write(_ bytes: [UInt8], to url: URL) throws {
        let name = url.lastPathComponent
        let directory = url.deletingLastPathComponent().path
        var template = Array((directory + "/." + name + ".tmp-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw failure(name, "cannot create a temporary file in \(directory)") }
        let temporary = String(cString: template)
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        do {
            defer { close(fd) }
            try writeAll(bytes, to: fd, name: name)
            guard fchmod(fd, 0o644) == 0 else { throw failure(name, "fchmod") }
            guard fsync(fd) == 0 else { throw failure(name, "fsync") }
        }
        guard rename(temporary, url.path) == 0 else { throw failure(name, "rename into place") }
        renamed = true
        let directoryFD = open(directory, O_RDONLY)
        if directoryFD >= 0 {
            // Best effort: some file systems refuse fsync on a directory; the data itself is already synced.
            _ = fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// Writes `data` to `url` atomically (see `write(_:to:)` for `[UInt8]`).
    public static func write(_ data: Data, to url: URL) throws {
        try write([UInt8](data), to: url)
    }

    private static func writeAll(_ bytes: [UInt8], to fd: Int32, name: String) throws {
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = posixWrite(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw failure(name, "write")
                }
                offset += written
            }
        }
    }

    private static func failure(_ name: String, _ step: String) -> DataError {
        DataError(file: name, .writeFailed("\(step): \(String(cString: strerror(errno)))"))
    }
}

#if canImport(Glibc)
private let posixWrite = Glibc.write
#elseif canImport(Darwin)
private let posixWrite = Darwin.write
#endif
