import Foundation

/// Which columns of a CSV table become features and which one is the label.
public struct CSVOptions: Equatable, Sendable, Codable {
    /// The column holding integer labels, kept out of the features; nil for an unlabelled table.
    public var labelColumn: String?
    /// The columns to use as features, in this order; nil for every column except the label.
    public var featureColumns: [String]?

    /// Options with an optional label column and an optional feature selection.
    public init(labelColumn: String? = nil, featureColumns: [String]? = nil) {
        self.labelColumn = labelColumn
        self.featureColumns = featureColumns
    }
}

/// Comma-separated tables with a header row (RFC 4180 quoting: `"a,b"`, `""` for a quote inside quotes).
///
/// Every data row must have as many fields as the header; feature fields must parse as finite floats and
/// the label field as an Int32. Blank lines are skipped; errors carry the 1-based line number.
public enum CSVFormat {
    /// Loads the CSV file at `url` as a data set with sample shape `[features]`.
    public static func load(_ url: URL, options: CSVOptions = CSVOptions()) throws -> Dataset {
        try decode(try FileBytes.read(url), file: url.lastPathComponent, options: options)
    }

    /// Decodes CSV `bytes` (UTF-8) as `load` does; `file` names the source in errors.
    public static func decode(_ bytes: [UInt8], file: String, options: CSVOptions = CSVOptions()) throws -> Dataset {
        var rows = RowScanner(bytes: bytes, file: file)
        let (headerLine, columns) = try rows.header()
        var seen = Set<String>()
        for name in columns where !seen.insert(name).inserted {
            throw DataError(file: file, line: headerLine, .malformed("column \(DataError.quoted(name)) appears twice in the header"))
        }
        func index(of name: String) throws -> Int {
            guard let i = columns.firstIndex(of: name) else { throw DataError(file: file, line: headerLine, .missingColumn(name)) }
            return i
        }
        let labelIndex = try options.labelColumn.map(index(of:))
        let featureIndices: [Int]
        if let chosen = options.featureColumns {
            featureIndices = try chosen.map(index(of:))
            if let labelIndex, featureIndices.contains(labelIndex) {
                throw DataError(file: file, .invalidArgument("label column \(DataError.quoted(columns[labelIndex])) is also listed as a feature"))
            }
            if Set(featureIndices).count != featureIndices.count {
                throw DataError(file: file, .invalidArgument("a feature column is listed twice"))
            }
        } else {
            featureIndices = columns.indices.filter { $0 != labelIndex }
        }
        if featureIndices.isEmpty { throw DataError(file: file, line: headerLine, .malformed("no feature columns")) }

        var features: [Float] = []
        var labels: [Int32] = []
        while let (line, fields) = try rows.next() {
            guard fields.count == columns.count else {
                throw DataError(file: file, line: line, .raggedRow(expected: columns.count, found: fields.count))
            }
            for i in featureIndices {
                let text = fields[i].trimmingCharacters(in: .whitespaces)
                guard let value = Float(text) else {
                    throw DataError(file: file, line: line, .nonNumeric(column: columns[i], field: text))
                }
                guard value.isFinite else {
                    throw DataError(file: file, line: line, .nonFinite("\(DataError.quoted(text)) in column \(DataError.quoted(columns[i]))"))
                }
                features.append(value)
            }
            if let labelIndex {
                let text = fields[labelIndex].trimmingCharacters(in: .whitespaces)
                guard let label = Int32(text) else {
                    throw DataError(file: file, line: line, .nonNumeric(column: columns[labelIndex], field: text))
                }
                labels.append(label)
            }
        }
        if features.isEmpty { throw DataError(file: file, .malformed("header but no data rows")) }
        return Dataset(name: file, shape: [featureIndices.count], features: features,
                       labels: labelIndex == nil ? nil : labels)
    }
}

/// Splits UTF-8 CSV bytes into rows of fields, tracking line numbers; skips blank lines.
struct RowScanner {
    let bytes: [UInt8]
    let file: String
    var position = 0
    var line = 1

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
        // Skip a UTF-8 byte-order mark.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
    }

    /// The first row as trimmed column names, with its line.
    ///
    /// - Throws: `empty` when the input has no row.
    mutating func header() throws -> (line: Int, columns: [String]) {
        guard let (line, fields) = try next() else { throw DataError(file: file, .empty) }
        return (line, fields.map { $0.trimmingCharacters(in: .whitespaces) })
    }

    /// The next non-blank row with the line it starts on, or nil at the end of the input.
    mutating func next() throws -> (Int, [String])? {
        while position < bytes.count {
            let start = line
            let fields = try row()
            if fields.count == 1 && fields[0].allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            return (start, fields)
        }
        return nil
    }

    private mutating func row() throws -> [String] {
        var fields: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var fieldStartsQuoted = false
        let startLine = line
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if position < bytes.count && bytes[position] == UInt8(ascii: "\"") {
                        field.append(byte)
                        position += 1
                    } else {
                        quoted = false
                    }
                } else {
                    if byte == UInt8(ascii: "\n") { line += 1 }
                    field.append(byte)
                }
                continue
            }
            switch byte {
            case UInt8(ascii: ","):
                fields.append(try text(field))
                field.removeAll(keepingCapacity: true)
                fieldStartsQuoted = false
            case UInt8(ascii: "\n"):
                fields.append(try text(field))
                line += 1
                return fields
            case UInt8(ascii: "\r"):
                break
            case UInt8(ascii: "\""):
                if field.isEmpty && !fieldStartsQuoted {
                    quoted = true
                    fieldStartsQuoted = true
                } else {
                    throw DataError(file: file, line: line, .malformed("stray quote inside an unquoted field"))
                }
            case 0:
                throw DataError(file: file, line: line, .malformed("NUL byte: not a text file"))
            default:
                field.append(byte)
            }
        }
        if quoted { throw DataError(file: file, line: startLine, .malformed("quoted field not closed before the end of the file")) }
        fields.append(try text(field))
        return fields
    }

    private func text(_ bytes: [UInt8]) throws -> String {
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw DataError(file: file, line: line, .malformed("invalid UTF-8"))
        }
        return string
    }
}
