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
/// ``AtomicFile/Writer`` does the same for a file written in pieces.
public enum AtomicFile {
    /// Writes `bytes` to `url` atomically, replacing any existing file; the new file has mode 0644.
    ///
    /// - Throws: `DataError.writeFailed` naming the destination and the system error.
    public static func write(_ bytes: [UInt8], to url: URL) throws {
        let file = try Writer(url)
        try file.write(bytes)
        try file.commit()
    }

    /// Writes `data` to `url` atomically (see `write(_:to:)` for `[UInt8]`).
    public static func write(_ data: Data, to url: URL) throws {
        try write([UInt8](data), to: url)
    }

    /// A file written in pieces that appears at its destination only whole: the pieces go to a temporary file
    /// beside the destination, and ``commit()`` syncs it and renames it into place. A writer dropped or
    /// ``abandon()``ed before it commits (an error, a stop asked for) removes its temporary file and leaves
    /// the destination as it was.
    public final class Writer {
        /// The destination.
        public let url: URL
        private let temporary: String
        private var descriptor: Int32
        private var finished = false

        /// Creates the temporary file for `url` in `url`'s directory.
        ///
        /// - Throws: `DataError.writeFailed` when the directory takes no new file.
        public init(_ url: URL) throws {
            self.url = url
            let directory = url.deletingLastPathComponent().path
            var template = Array((directory + "/." + url.lastPathComponent + ".tmp-XXXXXX").utf8CString)
            descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard descriptor >= 0 else { throw AtomicFile.failure(url.lastPathComponent, "cannot create a temporary file in \(directory)") }
            temporary = String(cString: template)
        }

        deinit { abandon() }

        /// Appends `bytes` to the temporary file.
        ///
        /// - Throws: `DataError.writeFailed` naming the destination and the system error.
        public func write(_ bytes: UnsafeRawBufferPointer) throws {
            precondition(!finished, "a write after the file was committed or abandoned")
            var offset = 0
            while offset < bytes.count {
                let written = posixWrite(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw AtomicFile.failure(url.lastPathComponent, "write")
                }
                offset += written
            }
        }

        /// Appends `bytes` to the temporary file.
        public func write(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { try write($0) }
        }

        /// Syncs the temporary file (mode 0644) and renames it over the destination; on failure the temporary
        /// file is removed.
        ///
        /// - Throws: `DataError.writeFailed` naming the destination and the step that failed.
        public func commit() throws {
            precondition(!finished, "a file committed or abandoned twice")
            let name = url.lastPathComponent
            do {
                guard fchmod(descriptor, 0o644) == 0 else { throw AtomicFile.failure(name, "fchmod") }
                guard fsync(descriptor) == 0 else { throw AtomicFile.failure(name, "fsync") }
                close(descriptor)
                descriptor = -1
                guard rename(temporary, url.path) == 0 else { throw AtomicFile.failure(name, "rename into place") }
            } catch {
                abandon()
                throw error
            }
            finished = true
            let directoryFD = open(url.deletingLastPathComponent().path, O_RDONLY)
            if directoryFD >= 0 {
                // Best effort: some file systems refuse fsync on a directory; the data itself is already synced.
                _ = fsync(directoryFD)
                close(directoryFD)
            }
        }

        /// Removes the temporary file without touching the destination (nothing happens after ``commit()``).
        public func abandon() {
            guard !finished else { return }
            finished = true
            if descriptor >= 0 { close(descriptor) }
            descriptor = -1
            unlink(temporary)
        }
    }

    fileprivate static func failure(_ name: String, _ step: String) -> DataError {
        DataError(file: name, .writeFailed("\(step): \(String(cString: strerror(errno)))"))
    }
}

#if canImport(Glibc)
private let posixWrite = Glibc.write
#elseif canImport(Darwin)
private let posixWrite = Darwin.write
#endif
