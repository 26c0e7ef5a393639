import Foundation

extension LatentCodes {
    /// Writes the codes to `url`, by its extension, atomically, and returns the files written:
    /// - `.npy`: the n × L float32 codes; for VQ-VAE also `NAME-indices.npy` beside it, the n × P int32 code indices;
    /// - `.csv`: a header and one row per sample: `z0 … z(L−1)`, then for VQ-VAE `code0 … code(P−1)`, then `label`
    ///   when the data has labels. Floats are written in Swift's shortest round-trip form.
    ///
    /// ``LatentCodeWriter`` writes the same files a batch at a time.
    ///
    /// - Throws: `ConfigError.invalid` for another extension; `DataError.writeFailed` when a file cannot be written.
    @discardableResult
    public func write(to url: URL) throws -> [URL] {
        let writer = try LatentCodeWriter(url: url, count: count, dimension: dimension, positions: indices == nil ? 0 : positions,
                                          labelled: labels != nil)
        try writer.append(values: values, indices: indices, labels: labels)
        return try writer.finish()
    }

    /// One `.csv` row of a sample's code: its values, its codebook indices (VQ-VAE) and its label, comma-separated.
    static func csvLine(_ values: ArraySlice<Float>, indices: ArraySlice<Int32>?, label: Int32?) -> String {
        var fields = values.map { String($0) }
        if let indices { fields += indices.map { String($0) } }
        if let label { fields.append(String(label)) }
        return fields.joined(separator: ",")
    }
}
