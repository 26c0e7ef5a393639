import Foundation

extension CSVFormat {
    /// The names of the columns that ``decode(_:file:options:)`` reads as features, in feature order: the
    /// header's columns chosen by `options` (every column but the label when none are chosen).
    ///
    /// - Throws: what `decode` throws for an empty file or a header without the named columns.
    public static func featureColumns(_ bytes: [UInt8], file: String, options: CSVOptions = CSVOptions()) throws -> [String] {
        var rows = RowScanner(bytes: bytes, file: file)
        let (headerLine, columns) = try rows.header()
        if let chosen = options.featureColumns {
            for name in chosen where !columns.contains(name) {
                throw DataError(file: file, line: headerLine, .missingColumn(name))
            }
            return chosen
        }
        return columns.filter { $0 != options.labelColumn }
    }
}

extension CSVFormat {
    /// The header's column names, trimmed.
    ///
    /// - Throws: `empty` for a file without a header, and what reading the file throws.
    public static func header(_ url: URL) throws -> [String] {
        var rows = RowScanner(bytes: try FileBytes.read(url), file: url.lastPathComponent)
        return try rows.header().columns
    }
}

extension DataSource {
    /// A CSV table whose header lacks its label column, read without labels: how a file of new rows is scored by
    /// a run that trained on a labelled file (labels, where a file has them, only give metrics). Every other source
    /// is returned as it is.
    public func withoutAbsentLabel() throws -> DataSource {
        guard case .csv(let url, var options) = self, let label = options.labelColumn,
              !(try CSVFormat.header(url)).contains(label) else { return self }
        options.labelColumn = nil
        return .csv(url, options)
    }

    /// For tables (a CSV file, `breast-cancer`): the names of the feature columns, in feature order; nil for
    /// images and arrays, whose features have no names.
    public func featureColumns() throws -> [String]? {
        switch self {
        case .csv(let url, let options):
            return try CSVFormat.featureColumns(try FileBytes.read(url), file: url.lastPathComponent, options: options)
        case .breastCancer(let columns):
            return try CSVFormat.featureColumns(PackageResources.wdbc_csv, file: "wdbc.csv",
                                                options: CSVOptions(labelColumn: "malignant", featureColumns: columns))
        default:
            return nil
        }
    }
}
