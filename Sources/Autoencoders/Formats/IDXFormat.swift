import Foundation

/// The IDX format of the MNIST files, gzipped or not.
///
/// Layout: magic `00 00 tt nn` (tt the element type: 0x08 unsigned byte, 0x0C int32, 0x0D float32,
/// 0x0E float64; nn the number of axes), then nn big-endian UInt32 extents, then the elements in C order,
/// big-endian. `images-idx3-ubyte` is magic 0x00000803 with extents n×rows×cols; `labels-idx1-ubyte`
/// is 0x00000801 with extent n.
public enum IDXFormat {
    /// Files claiming more elements than this (2^31) are refused as absurd.
    public static let maxElements = 1 << 31

    /// Decodes IDX `bytes` (gunzipping first when they start with the gzip magic) into a tensor.
    ///
    /// The element count is checked for overflow and against `maxElements`, and the data size against the
    /// bytes present, before anything is allocated for it. Float values must be finite.
    public static func decode(_ bytes: [UInt8], file: String) throws -> HostTensor {
        if bytes.isEmpty { throw DataError(file: file, .empty) }
        let raw = Gzip.isCompressed(bytes) ? try Gzip.decompress(bytes, file: file) : bytes
        if raw.isEmpty { throw DataError(file: file, .empty) }
        var reader = ByteReader(raw, file: file)
        let magic = try reader.take(4, "the magic number")
        guard magic[0] == 0, magic[1] == 0 else {
            throw DataError(file: file, .badMagic("expected 00 00 tt nn, found \(hex(magic))"))
        }
        let type = magic[2]
        let axes = Int(magic[3])
        let elementSize: Int
        switch type {
        case 0x08: elementSize = 1
        case 0x0C, 0x0D: elementSize = 4
        case 0x0E: elementSize = 8
        case 0x09, 0x0B:
            throw DataError(file: file, .unsupported("IDX element type 0x\(String(type, radix: 16)) (signed byte/short)"))
        default:
            throw DataError(file: file, .badMagic("unknown IDX element type 0x\(String(type, radix: 16))"))
        }
        guard axes > 0 else { throw DataError(file: file, .malformed("IDX header has 0 axes")) }
        var shape: [Int] = []
        for axis in 0..<axes { shape.append(Int(try reader.uint32BigEndian("extent \(axis + 1) of \(axes)"))) }
        guard let count = checkedProduct(shape, limit: maxElements) else {
            throw DataError(file: file, .absurdSize("header claims \(dimsText(shape)) elements, limit \(maxElements)"))
        }
        let header = reader.offset
        let needed = count * elementSize
        if reader.remaining < needed {
            let sizeText = elementSize == 1 ? dimsText(shape) : dimsText(shape) + "×\(elementSize)"
            throw DataError(file: file, .truncated(needed: "header promises \(header) + \(sizeText) bytes", actual: raw.count))
        }
        if reader.remaining > needed {
            throw DataError(file: file, .trailingBytes(expected: header + needed, actual: raw.count))
        }
        let data = raw[header...]
        switch type {
        case 0x08:
            return HostTensor(shape: shape, elements: .uint8(Array(data)))
        case 0x0C:
            return HostTensor(shape: shape, elements: .int32(bigEndianWords(data, count: count).map { Int32(bitPattern: $0) }))
        case 0x0D:
            let values = bigEndianWords(data, count: count).map { Float(bitPattern: $0) }
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw DataError(file: file, .nonFinite("element \(bad) is \(values[bad])"))
            }
            return HostTensor(shape: shape, elements: .float32(values))
        default:
            var values = [Double](repeating: 0, count: count)
            for i in 0..<count {
                let start = data.startIndex + 8 * i
                values[i] = Double(bitPattern: data[start..<start + 8].reduce(0) { $0 << 8 | UInt64($1) })
            }
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw DataError(file: file, .nonFinite("element \(bad) is \(values[bad])"))
            }
            return HostTensor(shape: shape, elements: .float64(values))
        }
    }

    /// Loads an IDX file as a data set: the first axis indexes samples; unsigned bytes are kept as bytes,
    /// read scaled by 1/255 to [0, 1] (``SampleStorage/uint8(_:)``), other types as they are. Sample shape: `[1, h, w]` for an n×h×w file (one channel),
    /// the trailing extents otherwise (`[1]` for a 1-D file).
    ///
    /// Labels come from `labels` when given, else from the matching `…-labels-idx1-ubyte[.gz]` file beside
    /// an `…-images-idx3-ubyte[.gz]` file when one exists; their count must equal the sample count.
    public static func load(_ url: URL, labels: URL? = nil) throws -> Dataset {
        let name = url.lastPathComponent
        let tensor = try decode(try FileBytes.read(url), file: name)
        let labelURL = labels ?? labelsFile(besides: url)
        let labelValues = try labelURL.map { try loadLabels($0) }
        return try dataset(tensor, labels: labelValues, name: name, labelsName: labelURL?.lastPathComponent ?? "")
    }

    /// Decodes in-memory IDX images (and optionally labels) into a data set, as `load` does for files.
    public static func dataset(images: [UInt8], labels: [UInt8]?, name: String) throws -> Dataset {
        let tensor = try decode(images, file: name)
        let labelValues = try labels.map { try decodeLabels($0, file: name + "-labels") }
        return try dataset(tensor, labels: labelValues, name: name, labelsName: name + "-labels")
    }

    /// The `…-labels-idx1-ubyte[.gz]` file that pairs with an `…-images-idx3-ubyte[.gz]` file, if present.
    public static func labelsFile(besides images: URL) -> URL? {
        let name = images.lastPathComponent
        guard let range = name.range(of: "images-idx3-ubyte", options: .backwards) else { return nil }
        let base = name.replacingCharacters(in: range, with: "labels-idx1-ubyte")
        let stem = base.hasSuffix(".gz") ? String(base.dropLast(3)) : base
        let directory = images.deletingLastPathComponent()
        for candidate in [base, stem, stem + ".gz"] {
            let url = directory.appendingPathComponent(candidate)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return url
            }
        }
        return nil
    }

    private static func loadLabels(_ url: URL) throws -> [Int32] {
        try decodeLabels(try FileBytes.read(url), file: url.lastPathComponent)
    }

    private static func decodeLabels(_ bytes: [UInt8], file: String) throws -> [Int32] {
        let tensor = try decode(bytes, file: file)
        guard tensor.shape.count == 1 else {
            throw DataError(file: file, .malformed("labels must have 1 axis, found \(dimsText(tensor.shape))"))
        }
        return try tensor.labels(file: file)
    }

    private static func dataset(_ tensor: HostTensor, labels: [Int32]?, name: String, labelsName: String) throws -> Dataset {
        let n = tensor.shape[0]
        if n == 0 { throw DataError(file: name, .malformed("no samples (first extent is 0)")) }
        var sampleShape = Array(tensor.shape.dropFirst())
        if sampleShape.count == 2 { sampleShape.insert(1, at: 0) }
        if sampleShape.isEmpty { sampleShape = [1] }
        if sampleShape.contains(0) {
            throw DataError(file: name, .malformed("sample shape \(dimsText(sampleShape)) has a zero extent"))
        }
        if let labels, labels.count != n {
            throw DataError(file: labelsName, .mismatch("\(labels.count) labels for \(n) samples in \(name)"))
        }
        return Dataset(name: name, shape: sampleShape, storage: try tensor.sampleStorage(file: name), labels: labels)
    }

    private static func bigEndianWords(_ data: ArraySlice<UInt8>, count: Int) -> [UInt32] {
        var words = [UInt32](repeating: 0, count: count)
        var index = data.startIndex
        for i in 0..<count {
            words[i] = UInt32(data[index]) << 24 | UInt32(data[index + 1]) << 16 | UInt32(data[index + 2]) << 8 | UInt32(data[index + 3])
            index += 4
        }
        return words
    }

    private static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined(separator: " ")
    }
}
