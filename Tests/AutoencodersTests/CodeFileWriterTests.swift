@testable import Autoencoders
import Compute
import Foundation
import Testing
import TestSupport

/// Files written a block of rows at a time (``NPYRowWriter``, ``LatentCodeWriter``): the bytes of the file written
/// whole, the row count the header promised or an error, and no file at the destination (nor a temporary one
/// beside it) unless every row came in.
@Suite struct CodeFileWriterTests {
    /// The names in `directory`, hidden temporary files included.
    static func names(_ directory: TemporaryDirectory) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.url.path).sorted()
    }

    @Test func rowsAppendedInBlocksGiveTheBytesOfTheWholeArray() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var rng = TestRandom(seed: 3)
        let values = rng.array(7 * 5, -2, 2)
        let writer = try NPYRowWriter(url: directory.file("rows.npy"), rows: 7, rowShape: [5], element: .float32)
        #expect(try Self.names(directory).count == 1 && !FileManager.default.fileExists(atPath: directory.file("rows.npy").path),
                "only a temporary file until finished")
        for block in [0..<3, 3..<3, 3..<7] { try writer.append(float32: Array(values[(block.lowerBound * 5)..<(block.upperBound * 5)])) }
        try writer.finish()
        #expect(try Array(Data(contentsOf: directory.file("rows.npy"))) == NPYFormat.encode(HostTensor(shape: [7, 5], float32: values)))
        let indices: [Int32] = [4, -1, 7, 0, 2, 9]
        let ints = try NPYRowWriter(url: directory.file("ints.npy"), rows: 3, rowShape: [2], element: .int32)
        try ints.append(int32: Array(indices[0..<2]))
        try ints.append(int32: Array(indices[2...]))
        try ints.finish()
        #expect(try Array(Data(contentsOf: directory.file("ints.npy"))) == NPYFormat.encode(HostTensor(shape: [3, 2], int32: indices)))
        #expect(try Self.names(directory) == ["ints.npy", "rows.npy"], "no temporary file left")
    }

    @Test func aRowCountOtherThanTheHeaderPromisesIsAnErrorAndNoFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let destination = directory.file("codes.npy")
        try Data("old".utf8).write(to: destination)
        let short = try NPYRowWriter(url: destination, rows: 4, rowShape: [2], element: .float32)
        try short.append(float32: [1, 2, 3, 4])
        #expect(throws: DataError(file: "codes.npy", .mismatch("2 rows written, the header promises 4"))) { try short.finish() }
        let long = try NPYRowWriter(url: destination, rows: 1, rowShape: [2], element: .float32)
        #expect(throws: DataError(file: "codes.npy", .mismatch("2 rows appended, the header promises 1"))) { try long.append(float32: [1, 2, 3, 4]) }
        do {
            let dropped = try NPYRowWriter(url: destination, rows: 2, rowShape: [2], element: .float32)
            try dropped.append(float32: [1, 2])
        }
        #expect(try Self.names(directory) == ["codes.npy"], "temporary files removed")
        #expect(try Data(contentsOf: destination) == Data("old".utf8), "the destination as it was")
    }

    @Test func codesWrittenInBatchesEqualTheCodesWrittenWhole() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let codes = LatentCodes(dimension: 2, values: [0.5, -1, 3.25, 1e-8, 0, 7], indices: [1, 0, 2, 2, 0, 1], positions: 2,
                                labels: [0, 1, 1])
        let whole = try codes.write(to: directory.file("whole.csv"))
        #expect(try String(contentsOf: whole[0], encoding: .utf8)
                == "z0,z1,code0,code1,label\n0.5,-1.0,1,0,0\n3.25,1e-08,2,2,1\n0.0,7.0,0,1,1\n")
        for ext in ["csv", "npy"] {
            let writer = try LatentCodeWriter(url: directory.file("batched.\(ext)"), count: 3, dimension: 2, positions: 2, labelled: true)
            try writer.append(values: [0.5, -1], indices: [1, 0], labels: [0])
            try writer.append(values: [3.25, 1e-8, 0, 7], indices: [2, 2, 0, 1], labels: [1, 1])
            let batched = try writer.finish()
            let reference = try codes.write(to: directory.file("whole.\(ext)"))
            #expect(batched.count == reference.count)
            for (a, b) in zip(batched, reference) { #expect(try Data(contentsOf: a) == Data(contentsOf: b), "\(a.lastPathComponent)") }
        }
        let short = try LatentCodeWriter(url: directory.file("short.csv"), count: 2, dimension: 2)
        try short.append(values: [1, 2])
        #expect(throws: DataError(file: "short.csv", .mismatch("1 codes written, 2 promised"))) { try short.finish() }
        #expect(!FileManager.default.fileExists(atPath: directory.file("short.csv").path))
        #expect(try Self.names(directory).allSatisfy { !$0.hasPrefix(".") }, "no temporary file left")
    }

    /// A streamed split encoded batch by batch into a file equals the same rows loaded whole, encoded and written
    /// whole, byte for byte (a VQ-VAE: codes and indices).
    @Test func streamedCodesEqualResidentCodesByteForByte() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var rng = TestRandom(seed: 8)
        let url = directory.file("acts.npy")
        try NPYFormat.write(HostTensor(shape: [700, 6], float32: rng.array(700 * 6, 0, 1)), to: url)
        let splits = try StreamedSplits.load(source: url.path, normalization: nil, testFraction: 0.3, validationFraction: 0,
                                             seed: 2, layout: StreamLayout(blockRows: 50, windowBlocks: 2))
        var config = ModelConfig(kind: .vqVAE, inputShape: [6])
        config.hidden = [8]
        config.latentDim = 4
        config.vq.codebookSize = 8
        config.vq.codeDim = 2
        let model = try Autoencoder(config: config, device: try TestDevices.device("cpu"), batchSize: 32, seed: 5)
        let rows = try splits.dataset(splits.test, device: model.device, batchSize: 32)
        let streamed = try #require(try model.writeCodes(of: rows, to: directory.file("streamed.npy")))
        let resident = try model.encode(splits.loadAll(splits.test, name: "test")).write(to: directory.file("resident.npy"))
        #expect(streamed.map(\.lastPathComponent) == ["streamed.npy", "streamed-indices.npy"])
        for (a, b) in zip(streamed, resident) { #expect(try Data(contentsOf: a) == Data(contentsOf: b), "\(a.lastPathComponent)") }
        #expect(try model.writeCodes(of: rows, to: directory.file("stopped.npy"), shouldStop: { true }) == nil)
        #expect(try Self.names(directory).sorted() == ["acts.npy", "resident-indices.npy", "resident.npy", "streamed-indices.npy", "streamed.npy"])
    }
}
