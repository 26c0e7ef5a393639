import Foundation

/// Latent codes written to a file a batch at a time, in the forms ``LatentCodes/write(to:)`` describes and with
/// the same bytes, so that the codes of a data set larger than memory never need to be held whole: `.npy`
/// (and, for VQ-VAE, `NAME-indices.npy`) start with a header giving the number of samples, `.csv` with its
/// header line, and rows follow as batches are appended.
///
/// Every file goes to a temporary file beside its destination and is moved into place by ``finish()`` once all
/// the promised rows are in; a writer dropped or ``abandon()``ed first (an error, a stop asked for) removes its
/// temporary files and leaves the destinations as they were.
public final class LatentCodeWriter {
    /// Samples the files promise.
    public let count: Int
    /// Latent width L.
    public let dimension: Int
    /// Code vectors per sample, P (0 without a codebook).
    public let positions: Int
    /// Whether rows carry a label (`.csv` only: `.npy` files hold the codes alone).
    public let labelled: Bool
    private let output: Output
    /// Samples appended so far.
    public private(set) var written = 0

    private enum Output {
        case npy(codes: NPYRowWriter, indices: NPYRowWriter?)
        case csv(AtomicFile.Writer)
    }

    /// Starts the files for `count` codes of `dimension` values at `url`, by its extension, with `positions`
    /// codebook indices per sample (VQ-VAE, else 0) and, for `.csv`, a label column when `labelled`.
    ///
    /// - Throws: `ConfigError.invalid` for an extension other than `.npy` or `.csv`; `DataError.writeFailed`.
    public init(url: URL, count: Int, dimension: Int, positions: Int = 0, labelled: Bool = false) throws {
        self.count = count
        self.dimension = dimension
        self.positions = positions
        switch url.pathExtension.lowercased() {
        case "npy":
            let codes = try NPYRowWriter(url: url, rows: count, rowShape: [dimension], element: .float32)
            let indices = positions > 0 ? try NPYRowWriter(url: Self.indexURL(for: url), rows: count, rowShape: [positions], element: .int32) : nil
            output = .npy(codes: codes, indices: indices)
            self.labelled = false
        case "csv":
            let file = try AtomicFile.Writer(url)
            var header = (0..<dimension).map { "z\($0)" }
            header += (0..<positions).map { "code\($0)" }
            if labelled { header.append("label") }
            try file.write(Array((header.joined(separator: ",") + "\n").utf8))
            output = .csv(file)
            self.labelled = labelled
        default:
            throw ConfigError.invalid("--out \(url.lastPathComponent): codes are written as .npy or .csv")
        }
    }

    /// `NAME-indices.npy` beside `NAME.npy`: where a VQ-VAE's code indices go.
    static func indexURL(for url: URL) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(url.deletingPathExtension().lastPathComponent + "-indices.npy")
    }

    /// Appends the codes of the next samples: whole rows of ``dimension`` `values`, of ``positions`` `indices`
    /// (VQ-VAE), and one label per sample where the file has a label column (ignored otherwise).
    ///
    /// - Throws: `DataError.mismatch` for more samples than promised (the files are then abandoned);
    ///   `DataError.writeFailed`.
    public func append(values: [Float], indices: [Int32]? = nil, labels: [Int32]? = nil) throws {
        let rows = values.count / dimension
        precondition(values.count == rows * dimension, "codes must be whole rows of \(dimension)")
        precondition((indices?.count ?? 0) == rows * positions, "one row of \(positions) indices per code")
        precondition(!labelled || labels?.count == rows, "one label per code")
        switch output {
        case .npy(let codes, let indexFile):
            do {
                try codes.append(float32: values)
                if let indexFile, let indices { try indexFile.append(int32: indices) }
            } catch {
                abandon()
                throw error
            }
        case .csv(let file):
            guard written + rows <= count else {
                abandon()
                throw DataError(file: file.url.lastPathComponent, .mismatch("\(written + rows) codes appended, \(count) promised"))
            }
            var text = ""
            for row in 0..<rows {
                text += LatentCodes.csvLine(values[(row * dimension)..<((row + 1) * dimension)],
                                            indices: indices.map { $0[(row * positions)..<((row + 1) * positions)] },
                                            label: labelled ? labels?[row] : nil)
                text += "\n"
            }
            try file.write(Array(text.utf8))
        }
        written += rows
    }

    /// Checks that every promised code was appended and moves the files into place; returns them.
    ///
    /// - Throws: `DataError.mismatch` when codes are missing (the files are then abandoned); `DataError.writeFailed`.
    @discardableResult
    public func finish() throws -> [URL] {
        switch output {
        case .npy(let codes, let indices):
            do {
                try codes.finish()
                try indices?.finish()
            } catch {
                abandon()
                throw error
            }
            return [codes.url] + (indices.map { [$0.url] } ?? [])
        case .csv(let file):
            guard written == count else {
                abandon()
                throw DataError(file: file.url.lastPathComponent, .mismatch("\(written) codes written, \(count) promised"))
            }
            try file.commit()
            return [file.url]
        }
    }

    /// Removes the temporary files, leaving the destinations as they were.
    public func abandon() {
        switch output {
        case .npy(let codes, let indices):
            codes.abandon()
            indices?.abandon()
        case .csv(let file):
            file.abandon()
        }
    }
}
