import Compute
import Foundation

/// Host-side analyses of latent codes: encoding a whole data set, top-activating inputs per latent, and the
/// plateau of a latent-size sweep.
public enum LatentAnalysis {
    /// The code of every sample of `data` (``Autoencoder/encode(_:)``: μ for VAEs), an n × latentDim row-major
    /// matrix in data order.
    public static func codes(model: Autoencoder, data: Dataset) throws -> [Float] {
        let rows = try DeviceDataset(device: model.device, data: data, batchSize: model.batchSize)
        let l = model.latentDim
        var out = [Float]()
        out.reserveCapacity(data.count * l)
        try model.forEachCode(of: rows, name: data.name) { batch, z in
            out += model.device.read(z.slice(0, batch.valid * l))
            return true
        }
        return out
    }

    /// For each latent j of an n × l code matrix, the `top` samples with the largest activation z_ij > 0,
    /// largest first (ties: lower index first). A latent that never fires gets an empty list.
    public static func topActivations(codes: [Float], count n: Int, latents l: Int, top: Int)
        -> [[(index: Int, activation: Float)]] {
        precondition(codes.count == n * l, "an n × l code matrix")
        return (0..<l).map { j in
            let firing = (0..<n).filter { codes[$0 * l + j] > 0 }
            let sorted = firing.sorted { codes[$0 * l + j] > codes[$1 * l + j] || (codes[$0 * l + j] == codes[$1 * l + j] && $0 < $1) }
            return sorted.prefix(max(top, 0)).map { ($0, codes[$0 * l + j]) }
        }
    }

    /// The plateau of a sweep: the smallest size whose validation reconstruction is within `tolerance` (a
    /// fraction, 0.02 = 2%) of the best, i.e. loss ≤ best + tolerance·|best|.
    ///
    /// - Precondition: one loss per size, at least one size.
    public static func plateau(sizes: [Int], losses: [Double], tolerance: Double) -> Int {
        precondition(!sizes.isEmpty && sizes.count == losses.count, "one loss per size")
        let best = losses.min() ?? 0
        let limit = best + tolerance * abs(best)
        return zip(sizes, losses).filter { $0.1 <= limit }.map(\.0).min() ?? sizes[0]
    }
}
