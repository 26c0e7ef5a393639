@testable import Autoencoders
import Foundation
import Testing

/// Streamed `.npy` files and shard folders: rows read in runs equal the file loaded whole, and every bad file is
/// one line naming it (and where) before a row is trained on, or at the read that finds it changed.
@Suite struct RowSourceTests {
    static func tensor(rows: Int, cols: Int, offset: Float = 0) -> HostTensor {
        HostTensor(shape: [rows, cols], float32: (0..<(rows * cols)).map { Float($0) * 0.25 + offset })
    }

    /// Reads `source` in runs of `run` rows.
    static func readInRuns(_ source: any RowSource, run: Int) throws -> [Float] {
        var all: [Float] = []
        var row = 0
        while row < source.count {
            let end = min(source.count, row + run)
            var part = [Float](repeating: .nan, count: (end - row) * source.dimension)
            try part.withUnsafeMutableBufferPointer { try source.read(row..<end, into: $0) }
            all += part
            row = end
        }
        return all
    }

    @Test(arguments: [1, 3, 7, 50])
    func runsOfRowsEqualTheWholeFile(run: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("acts.npy")
        try NPYFormat.write(Self.tensor(rows: 23, cols: 5), to: url)
        let source = try NPYRowFile(url)
        #expect(source.count == 23 && source.sampleShape == [5] && source.storedRowBytes == 20)
        #expect(try Self.readInRuns(source, run: run) == NPYFormat.load(url).features)
    }

    @Test func uint8ImagesAndFloat16AreConvertedAsTheWholeFileLoaderConvertsThem() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let images = directory.file("images.npy")
        try NPYFormat.write(HostTensor(shape: [256, 2, 2], elements: .uint8((0..<1024).map { UInt8($0 % 256) })), to: images)
        let source = try NPYRowFile(images)
        #expect(source.sampleShape == [1, 2, 2] && source.storedRowBytes == 4)
        #expect(try Self.readInRuns(source, run: 10) == NPYFormat.load(images).features)
        // float16: 1, -2, 65504 (largest), 2⁻²⁴ (smallest subnormal), -0, 0.333
        let halves: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8000, 0x3555]
        let url = try directory.write(Self.npy(descr: "<f2", shape: "(3, 2)", data: halves.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }),
                                      to: "half.npy")
        let values = try Self.readInRuns(try NPYRowFile(url), run: 2)
        #expect(values == [1, -2, 65504, 0x1p-24, -0.0, 0.333251953125])
        #expect(values[4].sign == .minus)
        #expect(try NPYFormat.load(url).features == values)
        #expect(try NPYFormat.load(url).storage == .float16(halves))
        // a half-precision infinity is refused as a float32 one is
        let infinite = try directory.write(Self.npy(descr: "<f2", shape: "(2,)", data: [0, 0x3C, 0, 0x7C]), to: "inf.npy")
        #expect(throws: DataError(file: "inf.npy", .nonFinite("element 1 is inf"))) { try NPYFormat.load(infinite) }
    }

    @Test func shardsReadAsOneDataSetInNumericOrder() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let folder = directory.file("cache")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // written out of order; "acts_10" must follow "acts_2"
        let parts = [(2, 4, Float(100)), (10, 3, Float(200)), (1, 5, Float(0))]
        for (number, rows, offset) in parts {
            try NPYFormat.write(Self.tensor(rows: rows, cols: 3, offset: offset), to: folder.appendingPathComponent("acts_\(number).npy"))
        }
        let source = try openRowSource(folder)
        #expect(source.count == 12 && source.sampleShape == [3])
        let expected = [Float(0), 100, 200].enumerated().flatMap { index, offset in
            Self.tensor(rows: [5, 4, 3][index], cols: 3, offset: offset).floats
        }
        for run in [1, 4, 5, 12] { #expect(try Self.readInRuns(source, run: run) == expected, "runs of \(run)") }
        #expect(try source.load().features == expected)
    }

    @Test func aHeaderPromisingMoreThanTheFileHoldsIsNamed() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var bytes = NPYFormat.encode(Self.tensor(rows: 10, cols: 4))
        bytes.removeLast(17)
        let url = try directory.write(bytes, to: "short.npy")
        #expect(throws: DataError(file: "short.npy", .truncated(needed: "header promises 128 + 10×4×4 bytes", actual: bytes.count))) {
            try NPYRowFile(url)
        }
        let long = try directory.write(NPYFormat.encode(Self.tensor(rows: 2, cols: 2)) + [0, 0], to: "long.npy")
        #expect(throws: DataError(file: "long.npy", .trailingBytes(expected: 144, actual: 146))) { try NPYRowFile(long) }
    }

    @Test func shardsThatDisagreeNameTheShard() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let folder = directory.file("mixed")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try NPYFormat.write(Self.tensor(rows: 3, cols: 4), to: folder.appendingPathComponent("0.npy"))
        try NPYFormat.write(Self.tensor(rows: 3, cols: 5), to: folder.appendingPathComponent("1.npy"))
        #expect(throws: DataError(file: "1.npy", .mismatch("sample shape 5 differs from 0.npy's 4"))) { try openRowSource(folder) }
        try NPYFormat.write(HostTensor(shape: [3, 4], elements: .float64(Array(repeating: 1, count: 12))),
                            to: folder.appendingPathComponent("1.npy"))
        #expect(throws: DataError(file: "1.npy", .mismatch("dtype <f8 differs from 0.npy's <f4"))) { try openRowSource(folder) }
        let empty = directory.file("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        #expect(throws: DataError(file: "empty", .empty)) { try openRowSource(empty) }
    }

    @Test func aFileTruncatedOrRewrittenWhileOpenFailsAtTheNextRead() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("acts.npy")
        try NPYFormat.write(Self.tensor(rows: 8, cols: 2), to: url)
        let source = try NPYRowFile(url)
        var row = [Float](repeating: 0, count: 2)
        try row.withUnsafeMutableBufferPointer { try source.read(0..<1, into: $0) }
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: 128 + 5 * 8)
        try handle.close()
        #expect(throws: DataError(file: "acts.npy", .changed("its size went from 192 to 168 bytes"))) {
            try row.withUnsafeMutableBufferPointer { try source.read(6..<7, into: $0) }
        }
    }

    @Test func nonFiniteValuesNameTheirRowAndOffset() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var values = Self.tensor(rows: 4, cols: 2).floats
        values[5] = .infinity
        let url = directory.file("inf.npy")
        try NPYFormat.write(HostTensor(shape: [4, 2], float32: values), to: url)
        var rows = [Float](repeating: 0, count: 8)
        #expect(throws: DataError(file: "inf.npy", .nonFinite("inf in row 2 (byte offset 144)"))) {
            try rows.withUnsafeMutableBufferPointer { try NPYRowFile(url).read(0..<4, into: $0) }
        }
    }

    @Test func shardNamesSortByTheirNumbers() {
        let names = ["acts_10.npy", "acts_2.npy", "acts_1.npy", "b.npy", "a.npy", "acts_02.npy"]
        #expect(names.sorted(by: NPYShardFolder.numericOrder) == ["a.npy", "acts_1.npy", "acts_02.npy", "acts_2.npy", "acts_10.npy", "b.npy"])
    }

    /// A hand-made `.npy` (version 1.0) of `descr`, `shape` and raw `data`.
    static func npy(descr: String, shape: String, data: [UInt8]) -> [UInt8] {
        var header = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }".utf8)
        header += [UInt8](repeating: 0x20, count: (64 - (10 + header.count + 1) % 64) % 64) + [0x0A]
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header + data
    }
}

extension HostTensor {
    /// The float32 elements.
    var floats: [Float] {
        guard case .float32(let values) = elements else { return [] }
        return values
    }
}
