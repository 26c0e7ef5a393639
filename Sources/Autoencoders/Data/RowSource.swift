import Compute
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Samples on disk, read a run of rows at a time, so that a data set larger than memory can be streamed.
///
/// Rows are converted to `Float` as they are read, as ``NPYFormat/load(_:labels:)`` converts a whole file:
/// `uint8` scaled by 1/255, `float16` and `float64` as stored; values must be finite. A source checks at open
/// that its files hold the bytes their headers promise, and at every read that they have not changed since:
/// each problem is a ``DataError`` naming the file and the byte offset.
public protocol RowSource: AnyObject, Sendable {
    /// The file or folder, for messages.
    var name: String { get }
    /// Rows (samples).
    var count: Int { get }
    /// The shape of one sample (`[1, h, w]` for an n×h×w array, as ``NPYFormat/load(_:labels:)`` gives it).
    var sampleShape: [Int] { get }
    /// Bytes one row takes on disk.
    var storedRowBytes: Int { get }
    /// Reads rows `rows` into `destination` (rows.count × dimension floats).
    func read(_ rows: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>) throws
    /// The type rows keep when read as stored (``readStored(_:into:)``): `uint8` and `float16` files as written,
    /// `float32` for float32 and float64 files.
    var storedType: DType { get }
    /// Reads rows `rows` into `destination` as stored: rows.count × dimension elements of ``storedType`` (bytes and
    /// half bit patterns as in the file, checked finite; floats as ``read(_:into:)`` gives them).
    func readStored(_ rows: Range<Int>, into destination: UnsafeMutableRawBufferPointer) throws
}

extension RowSource {
    /// Features per row.
    public var dimension: Int { sampleShape.reduce(1, *) }

    /// Reads the rows `ranges` a block of at most `blockRows` rows at a time, in order, handing each block
    /// (whole rows) to `body`, which may change it in place.
    public func forEachBlock(of ranges: [Range<Int>], blockRows: Int,
                             _ body: (UnsafeMutableBufferPointer<Float>) throws -> Void) throws {
        let d = dimension
        var block = [Float](repeating: 0, count: blockRows * d)
        try block.withUnsafeMutableBufferPointer { buffer in
            for range in ranges {
                for start in stride(from: range.lowerBound, to: range.upperBound, by: blockRows) {
                    let end = min(range.upperBound, start + blockRows)
                    try read(start..<end, into: buffer)
                    try body(UnsafeMutableBufferPointer(rebasing: buffer[0..<((end - start) * d)]))
                }
            }
        }
    }

    /// Rows of ``storedType`` read by ``readStored(_:into:)`` are floats read by ``read(_:into:)``.
    func readFloats(_ rows: Range<Int>, into destination: UnsafeMutableRawBufferPointer) throws {
        try read(rows, into: UnsafeMutableBufferPointer(start: destination.baseAddress?.assumingMemoryBound(to: Float.self),
                                                        count: destination.count / MemoryLayout<Float>.size))
    }

    /// Reads the rows `ranges` (default: every row) into memory, in order, as stored (``storedType``: bytes and
    /// halves stay bytes and halves), for a part of a source small enough to be resident.
    public func load(_ ranges: [Range<Int>]? = nil, name: String? = nil) throws -> Dataset {
        let ranges = ranges ?? [0..<count]
        let rows = ranges.reduce(0) { $0 + $1.count }, width = dimension
        /// Each range read by `read` into `all` (whole rows of `rowBytes`), one after another.
        func fill(_ all: UnsafeMutableRawBufferPointer, rowBytes: Int,
                  _ read: (Range<Int>, UnsafeMutableRawBufferPointer) throws -> Void) throws {
            var row = 0
            for range in ranges {
                try read(range, UnsafeMutableRawBufferPointer(rebasing: all[(row * rowBytes)...]))
                row += range.count
            }
        }
        let storage: SampleStorage
        if storedType == .float32 {
            var floats = [Float](repeating: 0, count: rows * width)
            try floats.withUnsafeMutableBytes { try fill($0, rowBytes: width * 4, readFloats) }
            storage = .float32(floats)
        } else {
            var bytes = [UInt8](repeating: 0, count: rows * width * storedType.size)
            try bytes.withUnsafeMutableBytes { try fill($0, rowBytes: width * storedType.size, readStored) }
            storage = SampleStorage(deviceBytes: bytes, dtype: storedType)
        }
        return Dataset(name: name ?? self.name, shape: sampleShape, storage: storage)
    }
}

/// Opens `url` as a row source: a folder of `.npy` shards (``NPYShardFolder``) or one `.npy` file (``NPYRowFile``).
public func openRowSource(_ url: URL) throws -> any RowSource {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
        return try NPYShardFolder(url)
    }
    return try NPYRowFile(url)
}

/// One `.npy` file read in runs of rows with `pread`, never mapped or loaded whole.
public final class NPYRowFile: RowSource, @unchecked Sendable {
    public let name: String
    public let count: Int
    public let sampleShape: [Int]
    public let storedRowBytes: Int
    /// The header's layout (element type, where the rows start).
    public let layout: NPYFormat.Layout
    private let descriptor: Int32
    /// Size and modification time when opened: a read finding others reports the file as changed.
    private let identity: (size: Int, modified: timespec)

    /// Opens `url` and checks its header against its size.
    ///
    /// - Throws: `DataError` naming the file: unreadable, not an `.npy`, an unsupported dtype (`<f4`, `<f2`,
    ///   `<f8`, `|u1` stream), or a size other than the header promises.
    public init(_ url: URL) throws {
        name = url.lastPathComponent
        descriptor = open(url.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw DataError(file: name, .unreadable(String(cString: strerror(errno)))) }
        do {
            var status = stat()
            guard fstat(descriptor, &status) == 0 else { throw DataError(file: name, .unreadable(String(cString: strerror(errno)))) }
            guard status.st_mode & S_IFMT == S_IFREG else { throw DataError(file: name, .unreadable("not a regular file")) }
            identity = (Int(status.st_size), status.st_mtim)
            let layout = try Self.readLayout(descriptor, size: identity.size, file: name)
            guard ["<f4", "<f2", "<f8", "|u1"].contains(layout.descr) else {
                throw DataError(file: name, .unsupported("dtype \(DataError.quoted(layout.descr)) (streamed files hold float32, float16, float64 or uint8)"))
            }
            if let problem = NPYFormat.sizeProblem(layout, actual: identity.size, file: name) { throw problem }
            self.layout = layout
            sampleShape = try NPYFormat.sampleShape(of: layout.shape, file: name)
            count = layout.shape[0]
            storedRowBytes = sampleShape.reduce(1, *) * layout.elementSize
        } catch {
            close(descriptor)
            throw error
        }
    }

    deinit { close(descriptor) }

    /// The header at the start of the file: its fixed prefix first, then as many bytes as it says it has.
    private static func readLayout(_ descriptor: Int32, size: Int, file: String) throws -> NPYFormat.Layout {
        func bytes(_ count: Int) throws -> [UInt8] {
            var buffer = [UInt8](repeating: 0, count: count)
            let got = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, 0) }
            guard got >= 0 else { throw DataError(file: file, .unreadable(String(cString: strerror(errno)))) }
            return Array(buffer.prefix(got))
        }
        let prefix = try bytes(min(size, 12))
        guard prefix.count >= 10 else { return try NPYFormat.layout(prefix, file: file) }
        let length = prefix[6] == 1 ? Int(prefix[8]) | Int(prefix[9]) << 8
            : prefix.count >= 12 ? (0..<4).reduce(0) { $0 | Int(prefix[8 + $1]) << (8 * $1) } : 0
        let headerEnd = (prefix[6] == 1 ? 10 : 12) + min(length, NPYFormat.maxHeaderLength + 1)
        return try NPYFormat.layout(try bytes(min(size, headerEnd)), file: file, elementLimit: 1 << 50)
    }

    public func read(_ rows: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>) throws {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= count, "rows \(rows) outside 0..<\(count)")
        let width = dimension
        precondition(destination.count >= rows.count * width, "destination too small for \(rows.count) rows")
        guard !rows.isEmpty else { return }
        try checkUnchanged()
        let offset = layout.dataOffset + rows.lowerBound * storedRowBytes, length = rows.count * storedRowBytes
        let values = rows.count * width
        switch layout.descr {
        case "<f4":
            try readBytes(UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(destination)[0..<length]),
                          at: offset, rows: rows)
        default:
            let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: length, alignment: 8)
            defer { raw.deallocate() }
            try readBytes(raw, at: offset, rows: rows)
            switch layout.descr {
            case "|u1":
                for i in 0..<values { destination[i] = Float(raw[i]) * SampleStorage.byteScale }
            case "<f2":
                for i in 0..<values { destination[i] = Half.float(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
            default:
                for i in 0..<values { destination[i] = Float(raw.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
            }
        }
        if layout.descr != "|u1", let bad = (0..<values).first(where: { !destination[$0].isFinite }) {
            let row = rows.lowerBound + bad / width
            throw DataError(file: name, .nonFinite("\(destination[bad]) in row \(row) (byte offset \(layout.dataOffset + row * storedRowBytes))"))
        }
    }

    public var storedType: DType { ["|u1": .uint8, "<f2": .float16][layout.descr] ?? .float32 }

    public func readStored(_ rows: Range<Int>, into destination: UnsafeMutableRawBufferPointer) throws {
        guard storedType != .float32 else { return try readFloats(rows, into: destination) }
        precondition(rows.lowerBound >= 0 && rows.upperBound <= count, "rows \(rows) outside 0..<\(count)")
        let length = rows.count * storedRowBytes
        precondition(destination.count >= length, "destination too small for \(rows.count) rows")
        guard !rows.isEmpty else { return }
        try checkUnchanged()
        let target = UnsafeMutableRawBufferPointer(rebasing: destination[0..<length])
        try readBytes(target, at: layout.dataOffset + rows.lowerBound * storedRowBytes, rows: rows)
        if storedType == .float16,
           let bad = (0..<(length / 2)).first(where: { !Half.isFinite(target.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) }) {
            let row = rows.lowerBound + bad / dimension
            let value = Half.float(target.loadUnaligned(fromByteOffset: 2 * bad, as: UInt16.self))
            throw DataError(file: name, .nonFinite("\(value) in row \(row) (byte offset \(layout.dataOffset + row * storedRowBytes))"))
        }
    }

    /// Fills `buffer` from byte `offset`; a short read means the file shrank under us.
    private func readBytes(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int, rows: Range<Int>) throws {
        var done = 0
        while done < buffer.count {
            let got = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if got < 0 {
                if errno == EINTR { continue }
                throw DataError(file: name, .unreadable("\(String(cString: strerror(errno))) at byte offset \(offset + done)"))
            }
            if got == 0 {
                throw DataError(file: name, .truncated(needed: "rows \(rows.lowerBound)..<\(rows.upperBound) need bytes up to offset \(offset + buffer.count), the read stopped at \(offset + done)", actual: currentSize()))
            }
            done += got
        }
    }

    /// Fails when the file's size or modification time differ from when it was opened.
    private func checkUnchanged() throws {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw DataError(file: name, .unreadable(String(cString: strerror(errno)))) }
        let modified = status.st_mtim
        if Int(status.st_size) != identity.size {
            throw DataError(file: name, .changed("its size went from \(identity.size) to \(status.st_size) bytes"))
        }
        if modified.tv_sec != identity.modified.tv_sec || modified.tv_nsec != identity.modified.tv_nsec {
            throw DataError(file: name, .changed("it was modified after it was opened (same size, \(identity.size) bytes)"))
        }
    }

    private func currentSize() -> Int {
        var status = stat()
        return fstat(descriptor, &status) == 0 ? Int(status.st_size) : -1
    }
}

/// A folder of `.npy` shards with the same sample shape and dtype, read as one data set in the shards' numeric
/// order (`acts_2.npy` before `acts_10.npy`), as activation caches are written.
public final class NPYShardFolder: RowSource, @unchecked Sendable {
    public let name: String
    public let shards: [NPYRowFile]
    /// First global row of each shard, and the total at the end.
    private let starts: [Int]

    /// Opens every `.npy` file of `url` and checks that they agree.
    ///
    /// - Throws: `DataError` naming the folder when it holds no `.npy` file, or the shard whose sample shape or
    ///   dtype differs from the first shard's, or any shard's own problem.
    public init(_ url: URL) throws {
        name = url.lastPathComponent
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: url.path)
        } catch {
            throw DataError(file: name, .unreadable("cannot list the folder"))
        }
        let files = names.filter { $0.lowercased().hasSuffix(".npy") }.sorted(by: Self.numericOrder)
        guard !files.isEmpty else { throw DataError(file: name, .empty) }
        shards = try files.map { try NPYRowFile(url.appendingPathComponent($0)) }
        let first = shards[0]
        for shard in shards.dropFirst() {
            if shard.sampleShape != first.sampleShape {
                throw DataError(file: shard.name, .mismatch("sample shape \(dimsText(shard.sampleShape)) differs from \(first.name)'s \(dimsText(first.sampleShape))"))
            }
            if shard.layout.descr != first.layout.descr {
                throw DataError(file: shard.name, .mismatch("dtype \(shard.layout.descr) differs from \(first.name)'s \(first.layout.descr)"))
            }
        }
        starts = shards.reduce(into: [0]) { $0.append($0.last! + $1.count) }
    }

    public var count: Int { starts.last! }
    public var sampleShape: [Int] { shards[0].sampleShape }
    public var storedRowBytes: Int { shards[0].storedRowBytes }

    public var storedType: DType { shards[0].storedType }

    public func read(_ rows: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let width = dimension
        try forEachShard(of: rows) { shard, local, first in
            try shard.read(local, into: UnsafeMutableBufferPointer(rebasing: destination[(first * width)...]))
        }
    }

    public func readStored(_ rows: Range<Int>, into destination: UnsafeMutableRawBufferPointer) throws {
        let rowBytes = dimension * storedType.size
        try forEachShard(of: rows) { shard, local, first in
            try shard.readStored(local, into: UnsafeMutableRawBufferPointer(rebasing: destination[(first * rowBytes)...]))
        }
    }

    /// The shards holding `rows`, in order, each with its own rows and the first of them counted from `rows`' start.
    private func forEachShard(of rows: Range<Int>, _ body: (NPYRowFile, Range<Int>, Int) throws -> Void) throws {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= count, "rows \(rows) outside 0..<\(count)")
        var row = rows.lowerBound
        // the last shard starting at or before `row`
        var shard = starts.lastIndex { $0 <= row } ?? 0
        while row < rows.upperBound {
            while starts[shard + 1] <= row { shard += 1 }
            let end = min(rows.upperBound, starts[shard + 1])
            try body(shards[shard], (row - starts[shard])..<(end - starts[shard]), row - rows.lowerBound)
            row = end
        }
    }

    /// Names compared by their digit runs as numbers, then as text.
    static func numericOrder(_ a: String, _ b: String) -> Bool {
        func parts(_ s: String) -> [(Int?, String)] {
            var result: [(Int?, String)] = [], current = "", digits = false
            for ch in s {
                let isDigit = ch.isASCII && ch.isNumber
                if isDigit != digits, !current.isEmpty {
                    result.append((digits ? Int(current) : nil, current))
                    current = ""
                }
                digits = isDigit
                current.append(ch)
            }
            if !current.isEmpty { result.append((digits ? Int(current) : nil, current)) }
            return result
        }
        for (x, y) in zip(parts(a), parts(b)) {
            if let i = x.0, let j = y.0, i != j { return i < j }
            if x.1 != y.1 { return x.1 < y.1 }
        }
        return a.count < b.count
    }
}
