import Foundation
import Testing
@testable import Autoencoders

@Suite("IDX format")
struct IDXFormatTests {
    /// An IDX file: magic `00 00 type axes`, big-endian extents, payload.
    static func idx(type: UInt8, dims: [UInt32], payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, type, UInt8(dims.count)]
        for d in dims { bytes += [UInt8(d >> 24), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
        return bytes + payload
    }

    @Test func imagesScaledWithLabelsBeside() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let pixels = (0..<(3 * 2 * 4)).map { UInt8($0 * 10) }
        let images = try dir.write(Self.idx(type: 0x08, dims: [3, 2, 4], payload: pixels), to: "toy-images-idx3-ubyte")
        try dir.write(Self.idx(type: 0x08, dims: [3], payload: [7, 0, 9]), to: "toy-labels-idx1-ubyte")
        let data = try IDXFormat.load(images)
        #expect(data.shape == [1, 2, 4])
        #expect(data.count == 3)
        #expect(data.labels == [7, 0, 9])
        #expect(data.storage == .uint8(pixels))
        #expect(data.features == pixels.map { Float($0) * SampleStorage.byteScale })
        #expect(data.sample(2).first == Float(160) * SampleStorage.byteScale)
    }

    @Test func gzippedFilesPairWithGzippedLabels() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let images = try dir.write(PackageResources.digits_test_images_idx3_ubyte_gz, to: "digits-test-images-idx3-ubyte.gz")
        try dir.write(PackageResources.digits_test_labels_idx1_ubyte_gz, to: "digits-test-labels-idx1-ubyte.gz")
        let data = try IDXFormat.load(images)
        #expect(data.count == 297)
        #expect(data.shape == [1, 8, 8])
        #expect(data.labels?.count == 297)
        #expect(data == (try BundledData.digits(split: .test)).renamed("digits-test-images-idx3-ubyte.gz"))
    }

    @Test func withoutLabelFileThereAreNoLabels() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let url = try dir.write(Self.idx(type: 0x08, dims: [2, 3], payload: [0, 255, 0, 51, 0, 0]), to: "table.idx")
        let data = try IDXFormat.load(url)
        #expect(data.labels == nil)
        #expect(data.shape == [3])
        #expect(data.features == [0, 255, 0, 51, 0, 0].map { Float($0) * SampleStorage.byteScale })
    }

    @Test func float32AndFloat64AreReadBigEndianUnscaled() throws {
        let values: [Float] = [1.5, -2, 300, 0.25]
        var payload: [UInt8] = []
        for v in values { payload += withUnsafeBytes(of: v.bitPattern.bigEndian, Array.init) }
        let tensor = try IDXFormat.decode(Self.idx(type: 0x0D, dims: [2, 2], payload: payload), file: "f.idx")
        #expect(tensor == HostTensor(shape: [2, 2], float32: values))

        var payload64: [UInt8] = []
        for v in [1e-3, 42.0] { payload64 += withUnsafeBytes(of: v.bitPattern.bigEndian, Array.init) }
        let tensor64 = try IDXFormat.decode(Self.idx(type: 0x0E, dims: [2], payload: payload64), file: "d.idx")
        #expect(tensor64.elements == .float64([1e-3, 42.0]))

        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let data = try IDXFormat.load(try dir.write(Self.idx(type: 0x0D, dims: [2, 2], payload: payload), to: "f.idx"))
        #expect(data.features == values)
        #expect(data.shape == [2])
    }

    @Test func labelsFileNames() {
        let base = URL(fileURLWithPath: "/nonexistent/dir/train-images-idx3-ubyte.gz")
        #expect(IDXFormat.labelsFile(besides: base) == nil)
        #expect(IDXFormat.labelsFile(besides: URL(fileURLWithPath: "/tmp/plain.idx")) == nil)
    }
}

extension Dataset {
    func renamed(_ name: String) -> Dataset {
        var copy = self
        copy.name = name
        return copy
    }
}
