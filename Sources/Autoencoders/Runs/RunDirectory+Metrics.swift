import Foundation

/// `metrics.csv` read back: one row per epoch, a number or nothing in each column.
public struct MetricsTable: Sendable, Equatable {
    /// Column names, as in ``EpochMetrics/csvHeader``.
    public let columns: [String]
    /// One row per epoch; nil where the field is empty (a term the model does not have).
    public let rows: [[Double?]]

    /// The values of `column`, one per epoch (nil for a missing column or an empty field).
    public func series(_ column: String) -> [Double?] {
        guard let index = columns.firstIndex(of: column) else { return rows.map { _ in nil } }
        return rows.map { $0[index] }
    }

    /// Whether `column` has a value in any epoch.
    public func has(_ column: String) -> Bool { series(column).contains { $0 != nil } }

    /// The last epoch's non-empty values, in column order.
    public var final: [(column: String, value: Double)] {
        guard let last = rows.last else { return [] }
        return zip(columns, last).compactMap { column, value in value.map { (column, $0) } }
    }
}

extension RunDirectory {
    /// Reads `metrics.csv`.
    ///
    /// - Throws: `DataError` when the file is missing, has no header, a row of the wrong width, or a field that is
    ///   neither empty nor a number.
    public func readMetrics() throws -> MetricsTable {
        guard let data = FileManager.default.contents(atPath: metricsURL.path) else {
            throw DataError(file: metricsURL.path, .unreadable("missing or unreadable: has the run finished an epoch?"))
        }
        let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
        guard let header = lines.first else { throw DataError(file: metricsURL.path, .empty) }
        let columns = header.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        var rows: [[Double?]] = []
        for (number, line) in lines.dropFirst().enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == columns.count else {
                throw DataError(file: metricsURL.path, line: number + 2, .raggedRow(expected: columns.count, found: fields.count))
            }
            rows.append(try zip(columns, fields).map { column, field in
                if field.isEmpty { return nil }
                guard let value = Double(field) else {
                    throw DataError(file: metricsURL.path, line: number + 2, .nonNumeric(column: column, field: String(field)))
                }
                return value
            })
        }
        return MetricsTable(columns: columns, rows: rows)
    }
}
