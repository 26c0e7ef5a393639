import Foundation

#if _endian(big)
#error("NPYRowWriter writes rows in the host's byte order, which .npy files say is little-endian")
#endif

/// An `.npy` file written a block of rows at a time, for arrays too large to hold in memory: the header, with
/// the row count known in advance, goes first, then rows are appended as they are produced, and the file
/// appears at its destination only once every promised row is in (``AtomicFile/Writer``). The bytes are those
/// ``NPYFormat/encode(_:)`` gives for the whole array.
///
/// A writer dropped before ``finish()``, or one whose rows fall short of or exceed the header's count, removes
/// its temporary file and leaves the destination as it was.
public final class NPYRowWriter {
    /// The element types written.
    public enum Element: Sendable {
        /// `<f4`.
        case float32
        /// `<i4`.
        case int32
    }

    /// Rows the header promises.
    public let rows: Int
    /// Elements per row (the product of the trailing extents).
    public let rowElements: Int
    /// The element type.
    public let element: Element
    /// Rows appended so far.
    public private(set) var written = 0
    private let file: AtomicFile.Writer

    /// Starts an `.npy` file of shape `[rows] + rowShape` at `url` (in a temporary file beside it).
    ///
    /// - Throws: `DataError.writeFailed` when the file cannot be created or the header written.
    public init(url: URL, rows: Int, rowShape: [Int], element: Element) throws {
        precondition(rows >= 0 && rowShape.allSatisfy { $0 >= 0 }, "extents must not be negative")
        self.rows = rows
        rowElements = rowShape.reduce(1, *)
        self.element = element
        file = try AtomicFile.Writer(url)
        try file.write(NPYFormat.header(descr: element == .float32 ? "<f4" : "<i4", shape: [rows] + rowShape))
    }

    /// The destination.
    public var url: URL { file.url }

    /// Appends whole rows of float32 values.
    ///
    /// - Throws: `DataError.mismatch` for more rows than the header promises (the file is then abandoned),
    ///   `DataError.writeFailed`.
    public func append(float32 values: UnsafeBufferPointer<Float>) throws {
        precondition(element == .float32, "float32 rows appended to an int32 file")
        try append(UnsafeRawBufferPointer(values), count: values.count)
    }

    /// Appends whole rows of float32 values.
    public func append(float32 values: [Float]) throws {
        try values.withUnsafeBufferPointer { try append(float32: $0) }
    }

    /// Appends whole rows of int32 values.
    ///
    /// - Throws: as ``append(float32:)-(UnsafeBufferPointer<Float>)``.
    public func append(int32 values: [Int32]) throws {
        precondition(element == .int32, "int32 rows appended to a float32 file")
        try values.withUnsafeBytes { try append($0, count: values.count) }
    }

    /// Checks that every promised row was appended and moves the file into place.
    ///
    /// - Throws: `DataError.mismatch` when rows are missing (the file is then abandoned), `DataError.writeFailed`.
    public func finish() throws {
        guard written == rows else {
            file.abandon()
            throw mismatch("\(written) rows written, the header promises \(rows)")
        }
        try file.commit()
    }

    /// Removes the temporary file, leaving the destination as it was.
    public func abandon() { file.abandon() }

    /// Appends `count` elements (whole rows) from `bytes`, in the host's byte order: little-endian, as the
    /// header says, on the platforms this builds for.
    private func append(_ bytes: UnsafeRawBufferPointer, count: Int) throws {
        precondition(rowElements == 0 ? count == 0 : count % rowElements == 0, "rows of \(rowElements) elements")
        let newRows = rowElements == 0 ? 0 : count / rowElements
        guard written + newRows <= rows else {
            file.abandon()
            throw mismatch("\(written + newRows) rows appended, the header promises \(rows)")
        }
        try file.write(bytes)
        written += newRows
    }

    private func mismatch(_ what: String) -> DataError { DataError(file: url.lastPathComponent, .mismatch(what)) }
}
