import Foundation
import Testing
@testable import Autoencoders

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Files the corpus cannot hold: a FIFO (which would block a naive reader forever), a device, and a file
/// without read permission (only checkable when not running as root, since root reads anything).
@Suite("Unreadable files")
struct UnreadableFileTests {
    /// Every file loader, by name, applied to `url`.
    static let loaders: [(String, (URL) throws -> Void)] = [
        ("idx", { _ = try IDXFormat.load($0) }),
        ("csv", { _ = try CSVFormat.load($0) }),
        ("npy", { _ = try NPYFormat.load($0) }),
        ("safetensors", { _ = try SafeTensorsFormat.read($0) }),
    ]

    /// The one-line message `load` fails with, or nil (recorded as an issue) when it succeeds or throws
    /// something other than a `DataError`.
    static func message(_ load: (URL) throws -> Void, _ url: URL) -> String? {
        do {
            try load(url)
            Issue.record("\(url.lastPathComponent) loaded without an error")
        } catch let error as DataError {
            #expect(!error.description.contains("\n"))
            return error.description
        } catch {
            Issue.record("\(url.lastPathComponent) threw a non-DataError: \(error)")
        }
        return nil
    }

    @Test func fifoIsRefusedWithoutBlocking() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let fifo = directory.file("pipe.npy")
        try #require(mkfifo(fifo.path, 0o600) == 0, "mkfifo failed")
        for (name, load) in Self.loaders {
            let text = Self.message(load, fifo)
            #expect(text == "pipe.npy: cannot read: not a regular file", "\(name): \(text ?? "no error")")
        }
    }

    @Test func deviceIsRefused() {
        for (name, load) in Self.loaders {
            let text = Self.message(load, URL(fileURLWithPath: "/dev/zero"))
            #expect(text == "zero: cannot read: not a regular file", "\(name): \(text ?? "no error")")
        }
    }

    @Test(.enabled(if: geteuid() != 0, "root can read a file without read permission"))
    func fileWithoutPermissionIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = try directory.write(Array("a,b\n1,2\n".utf8), to: "locked.csv")
        try #require(chmod(url.path, 0) == 0, "chmod failed")
        for (name, load) in Self.loaders {
            let text = Self.message(load, url)
            #expect(text == "locked.csv: cannot read: read failed (permission or I/O error)", "\(name): \(text ?? "no error")")
        }
    }
}
