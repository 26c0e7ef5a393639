/// A problem with a data or model file, reported as one line that names the file and what is wrong.
///
/// Every loader and writer in this module throws `DataError` for bad input: files that are missing, empty,
/// truncated, of the wrong kind, with absurd sizes, non-numeric or non-finite values. `description` is
/// always a single line, `file[:line]: problem`, for example
/// `digits.idx: truncated: header promises 16 + 1500×8×8 bytes, file has 37012 bytes`.
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, with the numbers that show it.
    public enum Problem: Equatable, Sendable {
        /// The file could not be opened or read (missing, a directory, no permission).
        case unreadable(String)
        /// The file holds no bytes (or, for a table, no rows).
        case empty
        /// The file starts with bytes that do not identify the expected format.
        case badMagic(String)
        /// The file ends before the data it promises: `needed` says what (`header promises 16 + 1500×8×8
        /// bytes`), `actual` is the file's size in bytes.
        case truncated(needed: String, actual: Int)
        /// The file continues past the data its header describes.
        case trailingBytes(expected: Int, actual: Int)
        /// A size in the header is too large to be real (overflow, or beyond the loader's limit).
        case absurdSize(String)
        /// The header or a record does not follow the format.
        case malformed(String)
        /// The format is valid but uses a feature this loader does not read (a dtype, an ordering).
        case unsupported(String)
        /// A value is NaN or infinite where finite numbers are required.
        case nonFinite(String)
        /// A CSV row has a different number of fields than the header.
        case raggedRow(expected: Int, found: Int)
        /// A field that must be a number is not.
        case nonNumeric(column: String, field: String)
        /// A named column is not in the header.
        case missingColumn(String)
        /// Two parts that must agree do not (labels vs samples, a normalizer vs the data).
        case mismatch(String)
        /// An argument given with the data is invalid (a split fraction, a data-source string).
        case invalidArgument(String)
        /// gzip/zlib decompression failed.
        case decompression(String)
        /// Writing the file failed.
        case writeFailed(String)
        /// The file changed (size or modification time) after it was opened, while it was being read.
        case changed(String)
    }

    /// The file's name (its last path component), or a data set's name.
    public var file: String
    /// The 1-based line the problem is on, for line-oriented formats.
    public var line: Int?
    /// What is wrong.
    public var problem: Problem

    /// A data error for `file` (reduced to its last path component), optionally at a 1-based `line`.
    public init(file: String, line: Int? = nil, _ problem: Problem) {
        self.file = Self.lastComponent(of: file)
        self.line = line
        self.problem = problem
    }

    /// `file[:line]: problem`, on one line.
    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return Self.oneLine("\(location): \(problemText)")
    }

    private var problemText: String {
        switch problem {
        case .unreadable(let why): return "cannot read: \(why)"
        case .empty: return "empty file"
        case .badMagic(let what): return "wrong magic: \(what)"
        case .truncated(let needed, let actual):
            return "truncated: \(needed), file has \(actual) bytes"
        case .trailingBytes(let expected, let actual):
            return "trailing bytes: header describes \(expected) bytes, file has \(actual)"
        case .absurdSize(let what): return "absurd size: \(what)"
        case .malformed(let what): return "malformed: \(what)"
        case .unsupported(let what): return "unsupported: \(what)"
        case .nonFinite(let what): return "non-finite value: \(what)"
        case .raggedRow(let expected, let found):
            return "ragged row: \(found) fields, header has \(expected)"
        case .nonNumeric(let column, let field):
            return "non-numeric value \(Self.quoted(field)) in column \(Self.quoted(column))"
        case .missingColumn(let name): return "no column \(Self.quoted(name)) in the header"
        case .mismatch(let what): return "mismatch: \(what)"
        case .invalidArgument(let what): return "invalid argument: \(what)"
        case .decompression(let what): return "gzip: \(what)"
        case .writeFailed(let what): return "write failed: \(what)"
        case .changed(let what): return "changed while in use: \(what)"
        }
    }

    /// A user-supplied fragment quoted for a message: at most 40 characters, control characters escaped.
    static func quoted(_ text: String) -> String {
        let clipped = text.count > 40 ? String(text.prefix(40)) + "…" : text
        return "\"" + oneLine(clipped) + "\""
    }

    /// `text` with every control character (newlines included) replaced by a visible escape.
    static func oneLine(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value)
                    || scalar == "\u{2028}" || scalar == "\u{2029}" {
                    result += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }

    private static func lastComponent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), path.index(after: slash) != path.endIndex else { return path }
        return String(path[path.index(after: slash)...])
    }
}
