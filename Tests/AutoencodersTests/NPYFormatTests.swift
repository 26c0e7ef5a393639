import Foundation
import Testing
@testable import Autoencoders

@Suite("NPY format")
struct NPYFormatTests {
    static let tensors: [HostTensor] = [
        HostTensor(shape: [3, 4], float32: (0..<12).map { Float($0) * 0.5 - 2 }),
        HostTensor(shape: [5], int32: [1, -2, 3, Int32.max, Int32.min]),
        HostTensor(shape: [2, 1, 3], elements: .float64([1e-300, 2, 3, 4, 5, -6])),
        HostTensor(shape: [2, 2], elements: .uint8([0, 1, 254, 255])),
        HostTensor(shape: [3], elements: .int64([Int64.min, 0, Int64.max])),
        HostTensor(shape: [0, 4], float32: []),
    ]

    @Test(arguments: tensors)
    func roundTripThroughAFile(_ tensor: HostTensor) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let url = dir.file("t.npy")
        try NPYFormat.write(tensor, to: url)
        let bytes = [UInt8](try Data(contentsOf: url))
        #expect(Array(bytes[0..<8]) == [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        #expect(bytes[10 + headerLength - 1] == UInt8(ascii: "\n"))
        #expect(try NPYFormat.read(url) == tensor)
    }

    /// The bytes `numpy.save` writes for `np.arange(6, dtype='<f4').reshape(2, 3)` (NumPy 2.x, version 1.0).
    @Test func readsWhatNumPyWrites() throws {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, 118, 0] + Array(header.utf8)
        bytes += [UInt8](repeating: 0x20, count: 128 - 1 - bytes.count) + [0x0A]
        for v in 0..<6 { bytes += withUnsafeBytes(of: Float(v).bitPattern.littleEndian, Array.init) }
        #expect(try NPYFormat.decode(bytes, file: "numpy.npy") == HostTensor(shape: [2, 3], float32: [0, 1, 2, 3, 4, 5]))
    }

    @Test(arguments: [(2, 0), (3, 0)])
    func versions2And3UseA4ByteHeaderLength(_ major: UInt8, _ minor: UInt8) throws {
        var header = Array("{\"descr\": \"|u1\", \"fortran_order\": False, \"shape\": (3,)}".utf8)
        header += [UInt8](repeating: 0x20, count: (64 - (12 + header.count + 1) % 64) % 64) + [0x0A]
        let count = header.count
        let bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [major, minor]
            + [UInt8(count & 0xFF), UInt8(count >> 8), 0, 0] + header + [9, 8, 7]
        #expect(try NPYFormat.decode(bytes, file: "v.npy") == HostTensor(shape: [3], elements: .uint8([9, 8, 7])))
    }

    @Test func datasetWithLabels() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let x = dir.file("x.npy"), y = dir.file("y.npy")
        try NPYFormat.write(HostTensor(shape: [2, 2, 2], elements: .uint8([0, 1, 2, 3, 4, 5, 6, 200])), to: x)
        try NPYFormat.write(HostTensor(shape: [2], elements: .int64([4, 1])), to: y)
        let data = try NPYFormat.load(x, labels: y)
        #expect(data.shape == [1, 2, 2])
        #expect(data.storage == .uint8([0, 1, 2, 3, 4, 5, 6, 200]))
        #expect(data.features == [0, 1, 2, 3, 4, 5, 6, 200].map { Float($0) * SampleStorage.byteScale })
        #expect(data.labels == [4, 1])
        try NPYFormat.write(HostTensor(shape: [3], int32: [1, 2, 3]), to: y)
        #expect(throws: DataError.self) { try NPYFormat.load(x, labels: y) }
    }

    /// numpy's usual MNIST layout, an (N, H, W) uint8 array, loads as the same images in IDX do: one channel,
    /// bytes scaled by 1/255.
    @Test func uint8ImagesReadAsIDXReadsThem() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var pixels: [UInt8] = (0..<(3 * 4 * 5)).map { UInt8(($0 * 37) % 256) }
        pixels[1] = 255
        let npy = dir.file("images.npy")
        try NPYFormat.write(HostTensor(shape: [3, 4, 5], elements: .uint8(pixels)), to: npy)
        let idxBytes: [UInt8] = [0, 0, 0x08, 3, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5] + pixels
        let fromIDX = try IDXFormat.dataset(images: idxBytes, labels: nil, name: "images-idx3-ubyte")
        let fromNPY = try NPYFormat.load(npy)
        #expect(fromNPY.shape == [1, 4, 5])
        #expect(fromNPY.shape == fromIDX.shape)
        #expect(fromNPY.features == fromIDX.features)
        #expect(fromNPY.features.max() == 1 && fromNPY.features.min() == 0)
        // a uint8 table (N, D) is scaled too, and keeps its shape
        try NPYFormat.write(HostTensor(shape: [2, 3], elements: .uint8([0, 51, 255, 102, 0, 255])), to: npy)
        let table = try NPYFormat.load(npy)
        #expect(table.shape == [3])
        #expect(table.features == [0, 51, 255, 102, 0, 255].map { Float($0) * SampleStorage.byteScale })
        #expect(zip(table.features, [0, 0.2, 1, 0.4, 0, 1] as [Float]).allSatisfy { abs($0 - $1) <= $1.ulp })
        // float arrays keep their values; a 3-D float array is one-channel images as well
        try NPYFormat.write(HostTensor(shape: [2, 2, 2], float32: [0, 2, 4, 6, 8, 10, 12, 14]), to: npy)
        let floats = try NPYFormat.load(npy)
        #expect(floats.shape == [1, 2, 2])
        #expect(floats.features == [0, 2, 4, 6, 8, 10, 12, 14])
    }
}

extension HostTensor: CustomTestStringConvertible {
    public var testDescription: String { "\(elements.count) elements of \(shape)" }
}
