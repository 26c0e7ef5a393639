import Foundation

extension LatentCodes {
    /// Writes the codes to `url`, by its extension, atomically, and returns the files written:
    /// - `.npy`: the n × L float32 codes; for VQ-VAE also `NAME-indices.npy` beside it, the n × P int32 code indices;
    /// - `.csv`: a header and one row per sample: `z0 … z(L−1)`, then for VQ-VAE `code0 … code(P−1)`, then `label`
    ///   when the data has labels. Floats are written in Swift's shortest round-trip form.
    ///
    /// - Throws: `ConfigError.invalid` for another extension; `DataError.writeFailed` when a file cannot be written.
    @discardableResult
    public func write(to url: URL) throws -> [URL] {
        switch url.pathExtension.lowercased() {
        case "npy":
            try NPYFormat.write(HostTensor(shape: [count, dimension], float32: values), to: url)
            guard let indices else { return [url] }
            let indexURL = url.deletingLastPathComponent()
                .appendingPathComponent(url.deletingPathExtension().lastPathComponent + "-indices.npy")
            try NPYFormat.write(HostTensor(shape: [count, positions], int32: indices), to: indexURL)
            return [url, indexURL]
        case "csv":
            try AtomicFile.write(Data(csvText().utf8), to: url)
            return [url]
        default:
            throw ConfigError.invalid("--out \(url.lastPathComponent): codes are written as .npy or .csv")
        }
    }

    /// The CSV form described in ``write(to:)``.
    public func csvText() -> String {
        var header = (0..<dimension).map { "z\($0)" }
        if indices != nil { header += (0..<positions).map { "code\($0)" } }
        if labels != nil { header.append("label") }
        var lines = [header.joined(separator: ",")]
        lines.reserveCapacity(count + 1)
        for row in 0..<count {
            var fields = values[(row * dimension)..<((row + 1) * dimension)].map { String($0) }
            if let indices { fields += indices[(row * positions)..<((row + 1) * positions)].map { String($0) } }
            if let labels { fields.append(String(labels[row])) }
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
