@testable import Autoencoders
import Compute
import Foundation
import Testing
import TestSupport

/// A uint8 or float16 file streamed with nothing to normalize stays as stored in the host chunks and the device
/// slots, and trains exactly as the same file loaded whole (kept as stored too), on every device.
@Suite struct StoredStreamingTests {
    static let order = EpochOrder.windowed(blockRows: 16, windowBlocks: 3)

    static func training() -> TrainingConfig {
        var training = TrainingConfig()
        training.epochs = 2
        training.batchSize = 20
        training.seed = 6
        training.epochOrder = order
        return training
    }

    /// 250 images of 3×4 as uint8, and the same count of 12-value rows as finite float16 patterns.
    static func files(in directory: TemporaryDirectory) throws -> [URL] {
        var state: UInt64 = 99
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let bytes = (0..<(250 * 12)).map { _ in UInt8(next() % 256) }
        // −0, then values in 0.125 ..< 0.5
        let halves = [0x8000] + (1..<(250 * 12)).map { _ in UInt16(0x3000 + next() % 0x1000) }
        let images = directory.file("images.npy"), table = directory.file("halves.npy")
        try NPYFormat.write(HostTensor(shape: [250, 3, 4], elements: .uint8(bytes)), to: images)
        _ = try directory.write(RowSourceTests.npy(descr: "<f2", shape: "(250, 12)", data: halves.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }),
                                to: "halves.npy")
        return [images, table]
    }

    @Test(arguments: TestDevices.selectors)
    func storedRowsStreamAsStoredAndTrainAsLoadedWhole(selector: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for url in try Self.files(in: directory) {
            let whole = try NPYFormat.load(url)
            var config = ModelConfig(kind: .vae, inputShape: whole.shape)
            config.hidden = [10]
            config.latentDim = 2
            func model() throws -> Autoencoder {
                try Autoencoder(config: config, device: try TestDevices.device(selector), batchSize: 20, seed: 6)
            }
            let resident = try Trainer(model: try model(), config: Self.training(), training: whole.subset(Array(0..<200)),
                                       validation: whole.subset(Array(200..<250)))
            try resident.run()
            let streamedModel = try model(), source = try openRowSource(url)
            let train = try StreamedDataset(source: source, ranges: [0..<200], normalizer: Normalizer(.none, fittedOn: whole),
                                            device: streamedModel.device, batchSize: 20, chunkRows: Self.order.windowRows)
            let validation = try StreamedDataset(source: source, ranges: [200..<250], device: streamedModel.device,
                                                 batchSize: 20, chunkRows: 30)
            #expect(train.storage == whole.storage.dtype && validation.storage == whole.storage.dtype, "\(url.lastPathComponent)")
            #expect(train.deviceBytes == 3 * 48 * 12 * whole.storage.dtype.size + 20 * 12 * 4 + 3 * 48 * 4)
            let streamed = try Trainer(model: streamedModel, config: Self.training(), training: train, validation: validation)
            try streamed.run()
            #expect(streamedModel.weights() == resident.model.weights(), "\(selector) \(url.lastPathComponent)")
            #expect(streamed.history.map(\.validationLoss) == resident.history.map(\.validationLoss))
            // a normalizer that changes the values streams floats
            let scaled = try StreamedDataset(source: source, normalizer: Normalizer(.minmax, fittedOn: whole),
                                             device: streamedModel.device, batchSize: 20, chunkRows: 30)
            #expect(scaled.storage == .float32)
        }
    }

    @Test func aFolderOfByteShardsLoadsWholeAsBytes() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let images = try Self.files(in: directory)[0]
        let whole = try NPYFormat.load(images)
        guard case .uint8(let bytes) = whole.storage else { Issue.record("not bytes"); return }
        let folder = directory.file("shards")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (index, rows) in [0..<100, 100..<250].enumerated() {
            try NPYFormat.write(HostTensor(shape: [rows.count, 3, 4], elements: .uint8(Array(bytes[(rows.lowerBound * 12)..<(rows.upperBound * 12)]))),
                                to: folder.appendingPathComponent("part_\(index + 1).npy"))
        }
        let shards = try NPYShardFolder(folder)
        #expect(try shards.load().storage == whole.storage)
        #expect(try shards.load([90..<110, 0..<5], name: "part").storage == whole.subset(Array(90..<110) + Array(0..<5)).storage)
    }

    @Test func aNonFiniteHalfReadAsStoredNamesItsRow() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = try directory.write(RowSourceTests.npy(descr: "<f2", shape: "(3, 2)", data: [0, 0x3C, 0, 0x3C, 0, 0x3C, 0, 0x7E, 0, 0, 0, 0]),
                                      to: "nan.npy")
        let source = try NPYRowFile(url)
        #expect(source.storedType == .float16)
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: 12, alignment: 4)
        defer { raw.deallocate() }
        try source.readStored(0..<1, into: raw)
        #expect(raw.load(fromByteOffset: 0, as: UInt16.self) == 0x3C00)
        #expect(throws: DataError(file: "nan.npy", .nonFinite("nan in row 1 (byte offset \(source.layout.dataOffset + 4))"))) {
            try source.readStored(0..<3, into: raw)
        }
    }
}
