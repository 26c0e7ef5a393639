import Compute
import Foundation

extension Autoencoder {
    /// Encodes every row of `rows` in order, as ``encode(_:)`` does a whole data set (the same codes, batch for
    /// batch), and writes the codes to `url` a batch at a time (``LatentCodeWriter``: `.npy`, with
    /// `NAME-indices.npy` for VQ-VAE, or `.csv`), so memory does not grow with the number of rows: the data
    /// may be streamed from disk (``StreamedDataset``). `shouldStop` is asked before each batch; when it says
    /// yes the files are abandoned and nil returned.
    ///
    /// - Returns: the files written, or nil when stopped (no file at any destination changed).
    /// - Throws: `DataError.mismatch` when the rows do not have the model's input size, errors of the pass (a
    ///   streamed file that changed), device faults and `DataError.writeFailed`; the destinations are then
    ///   left as they were.
    public func writeCodes(of rows: any BatchedRows, to url: URL, shouldStop: () -> Bool = { false }) throws -> [URL]? {
        guard rows.dimension == inputDimension else {
            throw DataError(file: url.lastPathComponent, .mismatch("samples have \(rows.dimension) features, the model takes \(inputDimension)"))
        }
        let l = latentDim
        let positions = latent.codeIndices?.perSample ?? 0
        let writer = try LatentCodeWriter(url: url, count: rows.count, dimension: l, positions: positions)
        // shouldStop is asked before each batch's codes are read and written
        let finished = try forEachCode(of: rows, name: url.lastPathComponent) { batch, z in
            guard !shouldStop() else { return false }
            let values = device.read(z.slice(0, batch.valid * l))
            let indices = latent.codeIndices.map { device.readInts($0.indices.slice(0, batch.valid * positions)) }
            try writer.append(values: values, indices: indices)
            return true
        }
        guard finished else {
            writer.abandon()
            return nil
        }
        return try writer.finish()
    }
}
