import Foundation

/// NumPy's `.npy` format, versions 1.0, 2.0 and 3.0.
///
/// Layout: `\x93NUMPY`, major and minor version bytes, the header length (UInt16 little-endian in 1.0,
/// UInt32 in 2.0/3.0), then a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (n, d), }`
/// padded with spaces to a multiple of 64 bytes and ended by `\n`, then the raw elements in C order.
/// Read dtypes: `<f4 <f2 <f8 <i4 <i8 |u1` (and `<u1`; `|i1` not). Fortran order and big-endian data are refused.
public enum NPYFormat {
    /// Files claiming more elements than this (2^31) are refused as absurd.
    public static let maxElements = 1 << 31
    /// Headers longer than this (1 MiB) are refused.
    public static let maxHeaderLength = 1 << 20

    private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// What an `.npy` header describes: the element type, the shape, and where the elements start.
    public struct Layout: Equatable, Sendable {
        /// The numpy type string: `<f4`, `<f2`, `<f8`, `<i4`, `<i8` or `|u1`.
        public var descr: String
        public var shape: [Int]
        /// Bytes before the first element (magic, version, header).
        public var dataOffset: Int
        /// Bytes per element.
        public var elementSize: Int
        /// Elements the shape promises.
        public var elementCount: Int
        /// Bytes of a whole file with this layout.
        public var fileSize: Int { dataOffset + elementCount * elementSize }
    }

    /// Parses the header at the start of `bytes` (which may stop after the header), accepting shapes of up to
    /// `elementLimit` elements.
    public static func layout(_ bytes: [UInt8], file: String, elementLimit: Int = maxElements) throws -> Layout {
        if bytes.isEmpty { throw DataError(file: file, .empty) }
        var reader = ByteReader(bytes, file: file)
        let head = try reader.take(min(6, bytes.count), "the magic string")
        guard head.elementsEqual(magic) else { throw DataError(file: file, .badMagic("not an .npy file (expected \\x93NUMPY)")) }
        let version = try reader.take(2, "the version")
        let major = version[version.startIndex]
        let headerLength: Int
        switch major {
        case 1: headerLength = Int(try reader.uintLittleEndian(2, "the header length"))
        case 2, 3: headerLength = Int(try reader.uintLittleEndian(4, "the header length"))
        default: throw DataError(file: file, .unsupported("npy format version \(major).\(version[version.startIndex + 1])"))
        }
        if headerLength > maxHeaderLength {
            throw DataError(file: file, .absurdSize("header length \(headerLength), limit \(maxHeaderLength)"))
        }
        let headerBytes = try reader.take(headerLength, "the \(headerLength)-byte header")
        guard let headerText = String(validating: headerBytes, as: UTF8.self) else {
            throw DataError(file: file, .malformed("header is not valid text"))
        }
        let header = try Header(parsing: headerText, file: file)
        if header.fortranOrder { throw DataError(file: file, .unsupported("fortran_order True (only C order is read)")) }
        guard let count = checkedProduct(header.shape, limit: elementLimit) else {
            throw DataError(file: file, .absurdSize("shape \(dimsText(header.shape)) exceeds \(elementLimit) elements"))
        }
        let elementSize: Int
        switch header.descr {
        case "<f4", "<i4": elementSize = 4
        case "<f8", "<i8": elementSize = 8
        case "<f2": elementSize = 2
        case "|u1", "<u1": elementSize = 1
        default: throw DataError(file: file, .unsupported("dtype \(DataError.quoted(header.descr))"))
        }
        return Layout(descr: header.descr == "<u1" ? "|u1" : header.descr, shape: header.shape, dataOffset: reader.offset,
                      elementSize: elementSize, elementCount: count)
    }

    /// The error for a file of `actual` bytes whose header promises `layout`, or nil when the sizes agree.
    static func sizeProblem(_ layout: Layout, actual: Int, file: String) -> DataError? {
        if actual < layout.fileSize {
            return DataError(file: file, .truncated(needed: "header promises \(layout.dataOffset) + \(dimsText(layout.shape))×\(layout.elementSize) bytes", actual: actual))
        }
        if actual > layout.fileSize {
            return DataError(file: file, .trailingBytes(expected: layout.fileSize, actual: actual))
        }
        return nil
    }

    /// Decodes `.npy` bytes into a tensor; `file` names the source in errors. float16 (`<f2`) is widened to
    /// float32.
    public static func decode(_ bytes: [UInt8], file: String) throws -> HostTensor {
        let layout = try layout(bytes, file: file)
        if let problem = sizeProblem(layout, actual: bytes.count, file: file) { throw problem }
        let data = bytes[layout.dataOffset...], count = layout.elementCount
        let elements: HostTensor.Elements
        switch layout.descr {
        case "<f4": elements = .float32(decodeLittleEndian(data, count: count, as: UInt32.self).map { Float(bitPattern: $0) })
        case "<f2": elements = .float32(decodeLittleEndian(data, count: count, as: UInt16.self).map(Half.float))
        case "<f8": elements = .float64(decodeLittleEndian(data, count: count, as: UInt64.self).map { Double(bitPattern: $0) })
        case "<i4": elements = .int32(decodeLittleEndian(data, count: count, as: UInt32.self).map { Int32(bitPattern: $0) })
        case "<i8": elements = .int64(decodeLittleEndian(data, count: count, as: UInt64.self).map { Int64(bitPattern: $0) })
        default: elements = .uint8(Array(data))
        }
        return HostTensor(shape: layout.shape, elements: elements)
    }

    /// Loads an `.npy` file as a tensor.
    public static func read(_ url: URL) throws -> HostTensor {
        try decode(try FileBytes.read(url), file: url.lastPathComponent)
    }

    /// Loads an `.npy` file as a data set, as ``IDXFormat/load(_:labels:)`` reads an IDX file: the first axis
    /// indexes samples; the sample shape is `[1, h, w]` for an n×h×w array (one-channel images, numpy's usual
    /// MNIST layout), the trailing extents otherwise (`[1]` for a 1-D file). `uint8` values are kept as bytes, read
    /// scaled by 1/255 to [0, 1], and `float16` as halves (``SampleStorage``); other types are converted to `Float`.
    /// Values must be finite. Labels, when `labels` is
    /// given, come from a 1-D integer `.npy` of the same length.
    public static func load(_ url: URL, labels: URL? = nil) throws -> Dataset {
        let name = url.lastPathComponent
        let bytes = try FileBytes.read(url)
        let (shape, storage) = try samples(bytes, file: name)
        let sampleShape = try sampleShape(of: shape, file: name)
        let n = shape[0]
        var labelValues: [Int32]?
        if let labels {
            let labelName = labels.lastPathComponent
            let labelTensor = try read(labels)
            guard labelTensor.shape == [n] else {
                throw DataError(file: labelName, .mismatch("labels have shape \(dimsText(labelTensor.shape)), \(name) has \(n) samples"))
            }
            labelValues = try labelTensor.labels(file: labelName)
        }
        return Dataset(name: name, shape: sampleShape, storage: storage, labels: labelValues)
    }

    /// The shape and the values of `.npy` bytes as a data set keeps them: float16 as its bit patterns (checked
    /// finite), the rest as ``HostTensor/sampleStorage(file:)`` keeps them.
    private static func samples(_ bytes: [UInt8], file: String) throws -> ([Int], SampleStorage) {
        let layout = try layout(bytes, file: file)
        guard layout.descr == "<f2" else {
            let tensor = try decode(bytes, file: file)
            return (tensor.shape, try tensor.sampleStorage(file: file))
        }
        if let problem = sizeProblem(layout, actual: bytes.count, file: file) { throw problem }
        let bits = decodeLittleEndian(bytes[layout.dataOffset...], count: layout.elementCount, as: UInt16.self)
        if let bad = bits.firstIndex(where: { !Half.isFinite($0) }) {
            throw DataError(file: file, .nonFinite("element \(bad) is \(Half.float(bits[bad]))"))
        }
        return (layout.shape, .float16(bits))
    }

    /// The per-sample shape of an array of `shape` whose first axis indexes samples: `[1, h, w]` for n×h×w,
    /// the trailing extents otherwise, `[1]` for a 1-D array.
    ///
    /// - Throws: `malformed` for a 0-d array, no samples, or a zero extent.
    static func sampleShape(of shape: [Int], file: String) throws -> [Int] {
        guard let n = shape.first else { throw DataError(file: file, .malformed("a 0-d array holds no samples")) }
        if n == 0 { throw DataError(file: file, .malformed("no samples (first extent is 0)")) }
        var sampleShape = Array(shape.dropFirst())
        if sampleShape.count == 2 { sampleShape.insert(1, at: 0) }
        if sampleShape.isEmpty { sampleShape = [1] }
        if sampleShape.contains(0) { throw DataError(file: file, .malformed("sample shape \(dimsText(sampleShape)) has a zero extent")) }
        return sampleShape
    }

    /// The `.npy` bytes of `tensor` (float32 as `<f4`, float64 `<f8`, int32 `<i4`, int64 `<i8`, uint8 `|u1`),
    /// version 1.0 unless the header needs 2.0, header padded so the data starts on a 64-byte boundary.
    public static func encode(_ tensor: HostTensor) -> [UInt8] {
        let descr: String
        switch tensor.elements {
        case .float32: descr = "<f4"
        case .float64: descr = "<f8"
        case .int32: descr = "<i4"
        case .int64: descr = "<i8"
        case .uint8: descr = "|u1"
        }
        var bytes = header(descr: descr, shape: tensor.shape)
        bytes.reserveCapacity(bytes.count + tensor.elements.count * tensor.elements.elementSize)
        tensor.elements.appendLittleEndian(to: &bytes)
        return bytes
    }

    /// The magic, version and header of an `.npy` file of `descr` elements in `shape`: version 1.0 unless the
    /// header needs 2.0, padded so the data starts on a 64-byte boundary.
    static func header(descr: String, shape: [Int]) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }".utf8)
        let version1 = header.count + 1 + 10 < 65536
        let prefix = version1 ? 10 : 12
        let padding = (64 - (prefix + header.count + 1) % 64) % 64
        header += [UInt8](repeating: UInt8(ascii: " "), count: padding) + [UInt8(ascii: "\n")]
        var bytes = magic + [version1 ? 1 : 2, 0]
        if version1 {
            bytes += [UInt8(header.count & 0xFF), UInt8(header.count >> 8)]
        } else {
            bytes += (0..<4).map { UInt8(truncatingIfNeeded: header.count >> (8 * $0)) }
        }
        return bytes + header
    }

    /// Writes `tensor` to `url` as `.npy`, atomically (`AtomicFile`).
    public static func write(_ tensor: HostTensor, to url: URL) throws {
        try AtomicFile.write(encode(tensor), to: url)
    }

    /// The parsed header dict: `descr`, `fortran_order`, `shape`.
    private struct Header {
        var descr = ""
        var fortranOrder = false
        var shape: [Int] = []

        /// Parses the Python literal `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
        init(parsing text: String, file: String) throws {
            var scanner = LiteralScanner(text: Array(text.unicodeScalars), file: file)
            try scanner.expect("{")
            var keys = Set<String>()
            while !scanner.consume("}") {
                let key = try scanner.string()
                try scanner.expect(":")
                switch key {
                case "descr": descr = try scanner.string()
                case "fortran_order": fortranOrder = try scanner.bool()
                case "shape": shape = try scanner.tuple()
                default: throw DataError(file: file, .malformed("unexpected header key \(DataError.quoted(key))"))
                }
                keys.insert(key)
                if !scanner.consume(",") {
                    try scanner.expect("}")
                    break
                }
            }
            for key in ["descr", "fortran_order", "shape"] where !keys.contains(key) {
                throw DataError(file: file, .malformed("header lacks \(DataError.quoted(key))"))
            }
            if !scanner.atEnd { throw DataError(file: file, .malformed("text after the header dict")) }
        }
    }

    /// A scanner for the small Python literal subset used by `.npy` headers.
    private struct LiteralScanner {
        let text: [Unicode.Scalar]
        let file: String
        var index = 0

        init(text: [Unicode.Scalar], file: String) {
            self.text = text
            self.file = file
        }

        var atEnd: Bool {
            var i = index
            while i < text.count, text[i].properties.isWhitespace { i += 1 }
            return i == text.count
        }

        mutating func skipSpace() {
            while index < text.count, text[index].properties.isWhitespace { index += 1 }
        }

        mutating func consume(_ symbol: Unicode.Scalar) -> Bool {
            skipSpace()
            if index < text.count, text[index] == symbol {
                index += 1
                return true
            }
            return false
        }

        mutating func expect(_ symbol: Unicode.Scalar) throws {
            if !consume(symbol) { throw DataError(file: file, .malformed("header: expected '\(symbol)' at character \(index)")) }
        }

        mutating func string() throws -> String {
            skipSpace()
            guard index < text.count, text[index] == "'" || text[index] == "\"" else {
                throw DataError(file: file, .malformed("header: expected a string at character \(index)"))
            }
            let quote = text[index]
            index += 1
            var value = String.UnicodeScalarView()
            while index < text.count, text[index] != quote {
                value.append(text[index])
                index += 1
            }
            guard index < text.count else { throw DataError(file: file, .malformed("header: unterminated string")) }
            index += 1
            return String(value)
        }

        mutating func bool() throws -> Bool {
            skipSpace()
            for (word, value) in [("True", true), ("False", false)] {
                let scalars = Array(word.unicodeScalars)
                if index + scalars.count <= text.count, Array(text[index..<index + scalars.count]) == scalars {
                    index += scalars.count
                    return value
                }
            }
            throw DataError(file: file, .malformed("header: expected True or False at character \(index)"))
        }

        mutating func tuple() throws -> [Int] {
            try expect("(")
            var values: [Int] = []
            while !consume(")") {
                skipSpace()
                var digits = ""
                while index < text.count, ("0"..."9").contains(text[index]) {
                    digits.unicodeScalars.append(text[index])
                    index += 1
                }
                guard !digits.isEmpty else { throw DataError(file: file, .malformed("header: shape holds a non-integer at character \(index)")) }
                guard let value = Int(digits) else { throw DataError(file: file, .absurdSize("shape extent \(digits)")) }
                values.append(value)
                if !consume(",") {
                    try expect(")")
                    break
                }
            }
            return values
        }
    }
}
