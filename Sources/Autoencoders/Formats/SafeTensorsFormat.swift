import Foundation

/// Named tensors and a string metadata map, as stored in one `.safetensors` file.
public struct SafeTensorsArchive: Equatable, Sendable {
    /// The tensors by name.
    public var tensors: [String: HostTensor]
    /// The `__metadata__` map (free-form strings, e.g. `format: pt`).
    public var metadata: [String: String]

    /// An archive of `tensors` with `metadata`.
    public init(tensors: [String: HostTensor] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }
}

/// The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of JSON, then
/// the data buffer.
///
/// The JSON maps each tensor name to `{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}`
/// (offsets into the data buffer, end exclusive) plus an optional `"__metadata__"` string→string map.
/// Read dtypes: F32, F64, I32, I64, U8. The reader checks, before allocating anything the file claims, that
/// N fits in the file and the limit, that every tensor's offsets lie inside the buffer, that `end − begin`
/// equals ∏shape × element size, and that the tensors tile the buffer without overlaps or gaps.
public enum SafeTensorsFormat {
    /// Headers longer than this (100 MB, the reference implementation's limit) are refused.
    public static let maxHeaderLength = 100_000_000

    /// Decodes safetensors `bytes`; float values must be finite unless `allowNonFinite`.
    public static func decode(_ bytes: [UInt8], file: String, allowNonFinite: Bool = false) throws -> SafeTensorsArchive {
        if bytes.isEmpty { throw DataError(file: file, .empty) }
        var reader = ByteReader(bytes, file: file)
        let declared = try reader.uintLittleEndian(8, "the 8-byte header length")
        guard declared <= UInt64(maxHeaderLength) else {
            throw DataError(file: file, .absurdSize("header length \(declared), limit \(maxHeaderLength)"))
        }
        let headerLength = Int(declared)
        if headerLength > reader.remaining {
            throw DataError(file: file, .truncated(needed: "header length promises 8 + \(headerLength) bytes", actual: bytes.count))
        }
        let headerBytes = try reader.take(headerLength, "the header")
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw DataError(file: file, .malformed("header does not start with '{'"))
        }
        let header = try Header.parse(Data(headerBytes), file: file)
        let buffer = bytes[reader.offset...]
        let bufferLength = buffer.count

        var entries: [(name: String, entry: Entry, count: Int, elementSize: Int)] = []
        for (name, entry) in header.tensors {
            let quoted = DataError.quoted(name)
            guard let elementSize = elementSize(entry.dtype) else {
                throw DataError(file: file, .unsupported("dtype \(DataError.quoted(entry.dtype)) of tensor \(quoted)"))
            }
            guard entry.dataOffsets.count == 2 else {
                throw DataError(file: file, .malformed("data_offsets of tensor \(quoted) must be [begin, end]"))
            }
            let begin = entry.dataOffsets[0], end = entry.dataOffsets[1]
            guard begin <= end else {
                throw DataError(file: file, .malformed("data_offsets [\(begin), \(end)] of tensor \(quoted) are reversed"))
            }
            guard end <= UInt64(bufferLength) else {
                throw DataError(file: file, .truncated(needed: "tensor \(quoted) ends at data offset \(end), past the \(bufferLength)-byte data", actual: bytes.count))
            }
            guard let count = checkedProduct(entry.shape), let size = checkedProduct([count, elementSize]) else {
                throw DataError(file: file, .absurdSize("shape \(dimsText(entry.shape)) of tensor \(quoted)"))
            }
            guard UInt64(size) == end - begin else {
                throw DataError(file: file, .mismatch("tensor \(quoted) is \(entry.dtype) \(dimsText(entry.shape)) = \(size) bytes, data_offsets span \(end - begin)"))
            }
            entries.append((name, entry, count, elementSize))
        }
        entries.sort { ($0.entry.dataOffsets[0], $0.entry.dataOffsets[1]) < ($1.entry.dataOffsets[0], $1.entry.dataOffsets[1]) }
        var position: UInt64 = 0
        for item in entries {
            let begin = item.entry.dataOffsets[0]
            if begin < position {
                throw DataError(file: file, .malformed("tensor \(DataError.quoted(item.name)) at data offset \(begin) overlaps the previous tensor (ending at \(position))"))
            }
            if begin > position {
                throw DataError(file: file, .malformed("gap in the data buffer before tensor \(DataError.quoted(item.name)) (bytes \(position)..<\(begin))"))
            }
            position = item.entry.dataOffsets[1]
        }
        if position != UInt64(bufferLength) {
            throw DataError(file: file, .trailingBytes(expected: 8 + headerLength + Int(position), actual: bytes.count))
        }

        var tensors: [String: HostTensor] = [:]
        for item in entries {
            let start = buffer.startIndex + Int(item.entry.dataOffsets[0])
            let data = bytes[start..<start + item.count * item.elementSize]
            let elements: HostTensor.Elements
            switch item.entry.dtype {
            case "F32": elements = .float32(decodeLittleEndian(data, count: item.count, as: UInt32.self).map { Float(bitPattern: $0) })
            case "F64": elements = .float64(decodeLittleEndian(data, count: item.count, as: UInt64.self).map { Double(bitPattern: $0) })
            case "I32": elements = .int32(decodeLittleEndian(data, count: item.count, as: UInt32.self).map { Int32(bitPattern: $0) })
            case "I64": elements = .int64(decodeLittleEndian(data, count: item.count, as: UInt64.self).map { Int64(bitPattern: $0) })
            default: elements = .uint8(Array(data))
            }
            let tensor = HostTensor(shape: item.entry.shape, elements: elements)
            if !allowNonFinite {
                try tensor.checkFinite(file: file, tensor: item.name)
            }
            tensors[item.name] = tensor
        }
        return SafeTensorsArchive(tensors: tensors, metadata: header.metadata)
    }

    /// Reads a `.safetensors` file.
    public static func read(_ url: URL, allowNonFinite: Bool = false) throws -> SafeTensorsArchive {
        try decode(try FileBytes.read(url), file: url.lastPathComponent, allowNonFinite: allowNonFinite)
    }

    /// The safetensors bytes of `archive`: `__metadata__` first (when non-empty), then the tensors ordered by
    /// element size (largest first, so each is aligned to its size) and name; the JSON is padded with spaces
    /// to a multiple of 8 bytes.
    ///
    /// - Precondition: no tensor is named `__metadata__`.
    public static func encode(_ archive: SafeTensorsArchive) -> [UInt8] {
        precondition(archive.tensors["__metadata__"] == nil, "a tensor cannot be named __metadata__")
        let ordered = archive.tensors.sorted {
            ($0.value.elements.elementSize, $1.key) > ($1.value.elements.elementSize, $0.key)
        }
        var json = "{"
        var parts: [String] = []
        if !archive.metadata.isEmpty {
            let pairs = archive.metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            parts.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for (name, tensor) in ordered {
            let size = tensor.elements.count * tensor.elements.elementSize
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            parts.append("\(jsonString(name)):{\"dtype\":\"\(dtypeName(tensor.elements))\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + size)]}")
            offset += size
        }
        json += parts.joined(separator: ",") + "}"
        var header = Array(json.utf8)
        header += [UInt8](repeating: UInt8(ascii: " "), count: (8 - header.count % 8) % 8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + header.count + offset)
        appendLittleEndian([UInt64(header.count)], to: &bytes)
        bytes += header
        for (_, tensor) in ordered {
            tensor.elements.appendLittleEndian(to: &bytes)
        }
        return bytes
    }

    /// Writes `archive` to `url` atomically (`AtomicFile`: temporary file, fsync, rename).
    public static func write(_ archive: SafeTensorsArchive, to url: URL) throws {
        try AtomicFile.write(encode(archive), to: url)
    }

    private static func elementSize(_ dtype: String) -> Int? {
        switch dtype {
        case "F32", "I32": return 4
        case "F64", "I64": return 8
        case "U8": return 1
        default: return nil
        }
    }

    private static func dtypeName(_ elements: HostTensor.Elements) -> String {
        switch elements {
        case .float32: return "F32"
        case .float64: return "F64"
        case .int32: return "I32"
        case .int64: return "I64"
        case .uint8: return "U8"
        }
    }

    /// `text` as a JSON string literal.
    private static func jsonString(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 {
                    result += String(format: "\\u%04x", scalar.value)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }

    /// One tensor's header entry.
    private struct Entry: Decodable {
        var dtype: String
        var shape: [Int]
        var dataOffsets: [UInt64]

        enum CodingKeys: String, CodingKey {
            case dtype, shape
            case dataOffsets = "data_offsets"
        }
    }

    /// The decoded JSON header: tensor entries and the metadata map.
    private struct Header: Decodable {
        var tensors: [String: Entry] = [:]
        var metadata: [String: String] = [:]

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            for key in container.allKeys {
                if key.stringValue == "__metadata__" {
                    metadata = try container.decode([String: String].self, forKey: key)
                } else {
                    tensors[key.stringValue] = try container.decode(Entry.self, forKey: key)
                }
            }
        }

        static func parse(_ data: Data, file: String) throws -> Header {
            let header: Header
            do {
                header = try JSONDecoder().decode(Header.self, from: data)
            } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
                // Foundation also reports a number that does not fit its field (`-1` or `1e30` for a
                // UInt64 offset) this way, without a coding path; tell that apart from broken syntax.
                if (try? JSONSerialization.jsonObject(with: data)) != nil {
                    throw DataError(file: file, .malformed("header holds a number that is not a valid extent or data offset (a non-negative integer in range)"))
                }
                throw DataError(file: file, .malformed("header is not valid JSON"))
            } catch let error as DecodingError {
                throw DataError(file: file, .malformed("header entry \(DataError.quoted(path(of: error))) has the wrong form"))
            }
            for (name, entry) in header.tensors where entry.shape.contains(where: { $0 < 0 }) {
                throw DataError(file: file, .malformed("tensor \(DataError.quoted(name)) has a negative extent"))
            }
            return header
        }

        private static func path(of error: DecodingError) -> String {
            let path: [CodingKey]
            switch error {
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
                path = context.codingPath
            case .keyNotFound(let key, let context):
                path = context.codingPath + [key]
            @unknown default:
                path = []
            }
            return path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
    }
}
