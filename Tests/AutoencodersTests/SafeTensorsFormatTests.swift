import Foundation
import Testing
@testable import Autoencoders

@Suite("safetensors format")
struct SafeTensorsFormatTests {
    /// What `safetensors.numpy.save` (the same Rust core as `safetensors.torch.save_file`, 0.8.0) writes
    /// for weight = [[1, 2], [3, 4]] (F32), bias = [0.5, -1] (F32), step = [7] (I32), metadata format=pt.
    static let pytorchBytes: [UInt8] = {
        let header = #"{"__metadata__":{"format":"pt"},"bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]},"step":{"dtype":"I32","shape":[1],"data_offsets":[24,28]}} "#
        var bytes: [UInt8] = [0xD0, 0, 0, 0, 0, 0, 0, 0] + Array(header.utf8)
        bytes += [0, 0, 0, 0x3F, 0, 0, 0x80, 0xBF]                                     // bias
        bytes += [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40] // weight
        bytes += [7, 0, 0, 0]                                                           // step
        return bytes
    }()

    @Test func readsWhatPyTorchWrites() throws {
        #expect(Self.pytorchBytes.count == 244)
        let archive = try SafeTensorsFormat.decode(Self.pytorchBytes, file: "model.safetensors")
        #expect(archive.metadata == ["format": "pt"])
        #expect(archive.tensors["weight"] == HostTensor(shape: [2, 2], float32: [1, 2, 3, 4]))
        #expect(archive.tensors["bias"] == HostTensor(shape: [2], float32: [0.5, -1]))
        #expect(archive.tensors["step"] == HostTensor(shape: [1], int32: [7]))
        #expect(archive.tensors.count == 3)
    }

    @Test func roundTripThroughAnAtomicWrite() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let archive = SafeTensorsArchive(
            tensors: [
                "encoder.weight": HostTensor(shape: [3, 2], float32: [1, -2, 3.5, 0, 1e-8, 7]),
                "step": HostTensor(shape: [], int32: [12]),
                "empty": HostTensor(shape: [0], float32: []),
                "moments": HostTensor(shape: [2], elements: .float64([0.1, -0.2])),
                "mask": HostTensor(shape: [3], elements: .uint8([1, 0, 1])),
            ],
            metadata: ["model": "vae", "quote\"and\nnewline": "ü\\"])
        let url = dir.file("ckpt.safetensors")
        try SafeTensorsFormat.write(archive, to: url)
        #expect(try SafeTensorsFormat.read(url) == archive)
        let bytes = [UInt8](try Data(contentsOf: url))
        let headerLength = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
        #expect(headerLength % 8 == 0)
        // Overwriting leaves exactly one file, no temporary behind.
        try SafeTensorsFormat.write(SafeTensorsArchive(tensors: ["x": HostTensor(shape: [1], float32: [2])]), to: url)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["ckpt.safetensors"])
        #expect(try SafeTensorsFormat.read(url).tensors["x"] == HostTensor(shape: [1], float32: [2]))
    }

    @Test func encodedHeaderFollowsTheDocumentedLayout() throws {
        let bytes = SafeTensorsFormat.encode(SafeTensorsArchive(
            tensors: ["b": HostTensor(shape: [1], int32: [5]), "a": HostTensor(shape: [2], float32: [1, 2])],
            metadata: ["format": "pt"]))
        let headerLength = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
        let header = String(decoding: bytes[8..<8 + headerLength], as: UTF8.self)
        let object = try JSONSerialization.jsonObject(with: Data(header.utf8)) as? [String: Any]
        let a = object?["a"] as? [String: Any]
        #expect(a?["dtype"] as? String == "F32")
        #expect(a?["shape"] as? [Int] == [2])
        #expect(a?["data_offsets"] as? [Int] == [0, 8])
        #expect((object?["b"] as? [String: Any])?["data_offsets"] as? [Int] == [8, 12])
        #expect(object?["__metadata__"] as? [String: String] == ["format": "pt"])
        #expect(bytes.count == 8 + headerLength + 12)
    }

    @Test func nonFiniteValuesNeedConsent() throws {
        let bytes = SafeTensorsFormat.encode(SafeTensorsArchive(tensors: ["w": HostTensor(shape: [2], float32: [1, .nan])]))
        #expect(throws: DataError.self) { try SafeTensorsFormat.decode(bytes, file: "w.safetensors") }
        let archive = try SafeTensorsFormat.decode(bytes, file: "w.safetensors", allowNonFinite: true)
        guard case .float32(let values) = archive.tensors["w"]?.elements else {
            Issue.record("w is not float32")
            return
        }
        #expect(values[1].isNaN)
    }
}

@Suite("Atomic writes")
struct AtomicFileTests {
    @Test func replacesContentAndLeavesNoTemporaryFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let url = dir.file("a.bin")
        try AtomicFile.write([1, 2, 3], to: url)
        try AtomicFile.write(Data([4, 5]), to: url)
        #expect([UInt8](try Data(contentsOf: url)) == [4, 5])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["a.bin"])
    }

    @Test func missingDirectoryIsATypedError() {
        let url = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/a.bin")
        #expect(throws: DataError.self) { try AtomicFile.write([1], to: url) }
    }
}
