import Foundation

/// Reading whole files with the checks every loader needs: the path exists, is a regular file, is not
/// larger than a limit, and reads completely.
enum FileBytes {
    /// Files larger than this (16 GiB) are refused before reading.
    static let defaultLimit = 16 << 30

    /// The bytes of the file at `url`, or a `DataError` naming it.
    static func read(_ url: URL, limit: Int = defaultLimit) throws -> [UInt8] {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError(file: path, .unreadable("no such file"))
        }
        if isDirectory.boolValue { throw DataError(file: path, .unreadable("is a directory, not a file")) }
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            throw DataError(file: path, .unreadable("cannot stat the file"))
        }
        // Devices and pipes (`/dev/zero`, a FIFO) have no size to check and may never end.
        guard attributes[.type] as? FileAttributeType == .typeRegular else {
            throw DataError(file: path, .unreadable("not a regular file"))
        }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        if size > limit { throw DataError(file: path, .absurdSize("file is \(size) bytes, limit \(limit)")) }
        do {
            let data = try Data(contentsOf: url, options: .mappedIfSafe)
            return [UInt8](data)
        } catch {
            throw DataError(file: path, .unreadable("read failed (permission or I/O error)"))
        }
    }
}

/// A bounds-checked cursor over bytes; every read that would pass the end throws `truncated`.
struct ByteReader {
    let bytes: [UInt8]
    let file: String
    private(set) var offset: Int

    init(_ bytes: [UInt8], file: String, offset: Int = 0) {
        self.bytes = bytes
        self.file = file
        self.offset = offset
    }

    /// Bytes left after the cursor.
    var remaining: Int { bytes.count - offset }

    /// Throws unless `count` more bytes are present; `what` describes them for the message.
    func require(_ count: Int, _ what: String) throws {
        if count > remaining {
            throw DataError(file: file, .truncated(needed: "needs \(offset + count) bytes for \(what)", actual: bytes.count))
        }
    }

    /// Reads `count` bytes.
    mutating func take(_ count: Int, _ what: String) throws -> ArraySlice<UInt8> {
        try require(count, what)
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    /// Reads a big-endian unsigned 32-bit integer.
    mutating func uint32BigEndian(_ what: String) throws -> UInt32 {
        let b = try take(4, what)
        return b.reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Reads a little-endian unsigned integer of `width` bytes (at most 8).
    mutating func uintLittleEndian(_ width: Int, _ what: String) throws -> UInt64 {
        let b = try take(width, what)
        return b.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// The product of `dims`, or nil when it overflows `Int` or exceeds `limit`.
func checkedProduct(_ dims: [Int], limit: Int = Int.max) -> Int? {
    var product = 1
    for dim in dims {
        guard dim >= 0 else { return nil }
        let (next, overflow) = product.multipliedReportingOverflow(by: dim)
        if overflow || next > limit { return nil }
        product = next
    }
    return product
}

/// `dims` written as `a×b×c` for messages.
func dimsText(_ dims: [Int]) -> String {
    dims.isEmpty ? "scalar" : dims.map(String.init).joined(separator: "×")
}

/// `count` little-endian integers of type `T` read from the start of `data`.
func decodeLittleEndian<T: FixedWidthInteger & UnsignedInteger>(_ data: ArraySlice<UInt8>, count: Int, as: T.Type) -> [T] {
    let size = MemoryLayout<T>.size
    return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
        data.withUnsafeBytes { raw in
            for i in 0..<count { buffer[i] = T(littleEndian: raw.loadUnaligned(fromByteOffset: i * size, as: T.self)) }
        }
        initialized = count
    }
}

/// Appends `values` to `bytes` in little-endian order.
func appendLittleEndian<T: FixedWidthInteger>(_ values: [T], to bytes: inout [UInt8]) {
    let size = MemoryLayout<T>.size
    let start = bytes.count
    bytes.append(contentsOf: repeatElement(0, count: values.count * size))
    bytes.withUnsafeMutableBytes { raw in
        for i in values.indices { raw.storeBytes(of: values[i].littleEndian, toByteOffset: start + i * size, as: T.self) }
    }
}
