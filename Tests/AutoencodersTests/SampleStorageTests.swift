@testable import Autoencoders
import Compute
import Foundation
import Testing
import TestSupport

/// Image bytes and half-precision values stay as stored, on the host and on the device, and read as the same
/// floats everywhere: the batches a device gathers from them, and so the weights trained on them, equal those of
/// the same values held as `Float`s, bit for bit, in a quarter (bytes) or half (halves) of the device memory.
@Suite struct SampleStorageTests {
    /// Every byte value, then 64 more in a seeded order: 320 bytes, 20 rows of 16.
    static let bytes: [UInt8] = (0..<256).map(UInt8.init) + (0..<64).map { UInt8(($0 * 97 + 13) % 256) }

    /// 20 rows of 16 finite half-precision patterns: −0 and +0, the largest, then normals and subnormals.
    static let halves: [UInt16] = [0x8000, 0x0000, 0x7BFF, 0xFBFF] + (4..<320).map { i in
        let pattern = UInt16(truncatingIfNeeded: i &* 2_654_435_761 >> 7)
        return pattern & 0x7C00 == 0x7C00 ? pattern & 0x83FF : pattern
    }

    @Test func bytesReadAsTheirScaledValueWithinOneUlpOfTheQuotient() {
        let storage = SampleStorage.uint8(Self.bytes)
        #expect(storage.dtype == .uint8 && storage.byteCount == 320)
        for (b, value) in zip(Self.bytes, storage.floats) {
            let exact = Float(b) / 255
            #expect(value == Float(b) * SampleStorage.byteScale && abs(value - exact) <= exact.ulp, "\(b)")
        }
        #expect(storage.floats.first == 0 && storage.floats[255] == 1)
        #expect(SampleStorage.float16([0x3C00, 0xC000, 0x0001]).floats == [1, -2, 0x1p-24])
    }

    @Test func subsetsSplitsAndTheIdentityKeepTheStorage() throws {
        let data = Dataset(name: "bytes", shape: [1, 4, 4], storage: .uint8(Self.bytes), labels: (0..<20).map(Int32.init))
        let picked = data.subset([3, 0, 3])
        #expect(picked.storage == .uint8(Array(Self.bytes[48..<64] + Self.bytes[0..<16] + Self.bytes[48..<64])))
        #expect(picked.labels == [3, 0, 3] && picked.sample(1) == data.sample(0))
        let (train, test) = try data.split(seed: 5, fraction: 0.75)
        #expect(train.storage.dtype == .uint8 && test.storage.dtype == .uint8 && train.count == 15)
        #expect(try Normalizer(.none, fittedOn: train).apply(to: train).storage == train.storage)
        // another normalization changes the values, so it stores floats
        let scaled = try Normalizer(.zscore, fittedOn: train).apply(to: train)
        #expect(scaled.storage.dtype == .float32 && scaled.count == 15)
        // equality compares values, however stored
        #expect(data == Dataset(name: "bytes", shape: [1, 4, 4], features: data.features, labels: data.labels))
    }

    @Test(arguments: TestDevices.selectors)
    func batchesOfStoredRowsEqualBatchesOfTheirFloats(selector: String) throws {
        let device = try Devices.open(DeviceSelection(parsing: selector))
        for storage in [SampleStorage.uint8(Self.bytes), .float16(Self.halves)] {
            let before = device.activity
            let stored = try DeviceDataset(device: device, storage: storage, dimension: 16, batchSize: 6)
            let allocated = (device.activity - before).allocatedBytes
            let floats = try DeviceDataset(device: device, features: storage.floats, dimension: 16, batchSize: 6)
            #expect(stored.storedBytes == storage.byteCount && floats.storedBytes == 320 * 4, "\(selector) \(storage.dtype)")
            // rows as stored, plus the order's indices and one float batch
            #expect(allocated == storage.byteCount + 24 * 4 + 6 * 16 * 4, "\(selector) \(storage.dtype): \(allocated) B")
            #expect(stored.fingerprint() == floats.fingerprint())
            let order = (0..<20).reversed().map(Int32.init)
            for (a, b) in zip(stored.batches(order: order, dropLast: false), floats.batches(order: order, dropLast: false)) {
                let x = device.read(a.x), y = device.read(b.x)
                #expect(x.map(\.bitPattern) == y.map(\.bitPattern) && a.valid == b.valid, "\(selector) \(storage.dtype)")
            }
        }
    }

    @Test(arguments: TestDevices.selectors)
    func trainingOnStoredBytesEqualsTrainingOnTheirFloats(selector: String) throws {
        var config = ModelConfig(kind: .vae, inputShape: [1, 4, 4])
        config.hidden = [12]
        config.latentDim = 2
        var training = TrainingConfig()
        training.epochs = 2
        training.batchSize = 8
        training.seed = 4
        var rng = TestRandom(seed: 9)
        let bytes = (0..<(64 * 16)).map { _ in UInt8(rng.next() % 256) }
        let stored = Dataset(name: "bytes", shape: [1, 4, 4], storage: .uint8(bytes))
        let floats = Dataset(name: "bytes", shape: [1, 4, 4], features: stored.features)
        var weights: [[String: HostTensor]] = []
        for data in [stored, floats] {
            let model = try Autoencoder(config: config, device: try TestDevices.device(selector), batchSize: 8, seed: 4)
            let trainer = try Trainer(model: model, config: training, training: data.subset(Array(0..<48)),
                                      validation: data.subset(Array(48..<64)))
            try trainer.run()
            weights.append(model.weights())
        }
        #expect(weights[0] == weights[1], "\(selector)")
    }
}
