import Compute
import Foundation

/// A distribution over latent codes to draw new samples from, decoded by the model's decoder.
///
/// - VAEs: the prior they were trained against, p(z) = N(0, I).
/// - Plain, denoising, sparse and contractive autoencoders have no prior; a diagonal Gaussian N(m, diag s²) is
///   fitted to the training codes (per-dimension mean m_j and standard deviation s_j).
/// - VQ-VAE: a categorical prior over codebook entries fitted to code usage on the training data,
///   π_pk = #{i : k_ip = k} / n for code position p; each position is drawn independently, k_p ~ Cat(π_p·), and
///   replaced by its code vector e_{k_p}. (The VQ-VAE paper fits an autoregressive PixelCNN prior instead; the
///   independent prior ignores how positions go together, so its samples are rougher.)
public enum LatentPrior: Sendable, Equatable {
    /// z ~ N(0, I) of the given width.
    case standardNormal(dimension: Int)
    /// z_j = m_j + s_j·ε_j with ε ~ N(0, I).
    case gaussian(mean: [Double], std: [Double])
    /// Per position p a categorical distribution `frequencies[p]` over the K codebook rows; `codebook` holds the
    /// K × D vectors, row-major.
    case categorical(frequencies: [[Double]], codebook: [Float], codeDim: Int)

    /// The prior of `model`: N(0, I) for VAEs; otherwise fitted to the codes of `training` (see the type's
    /// description). `training` is only read for models without a prior of their own.
    public static func fit(model: Autoencoder, training: () throws -> Dataset) throws -> LatentPrior {
        try model.latent.prior { try model.encode(training()) }
    }

    /// Width of the codes drawn.
    public var dimension: Int {
        switch self {
        case .standardNormal(let dimension): return dimension
        case .gaussian(let mean, _): return mean.count
        case .categorical(let frequencies, _, let codeDim): return frequencies.count * codeDim
        }
    }

    /// One line saying what the prior is.
    public var summary: String {
        switch self {
        case .standardNormal: return "the VAE prior N(0, I)"
        case .gaussian: return "a diagonal Gaussian fitted to the training codes"
        case .categorical(let frequencies, _, _):
            return "independent categorical priors over the codebook for each of the \(frequencies.count) code positions, fitted to code usage on the training data"
        }
    }

    /// `count` codes (count × ``dimension`` values). Gaussian draws are the device's normal fill
    /// (``RandomPrimitives/fillNormal(_:mean:std:random:)``, Philox keyed by `seed`), so they are the same on every
    /// backend; categorical draws use inverse-CDF sampling with ``SplitMix64`` seeded by `seed`.
    public func sample(count: Int, seed: UInt64, device: any Device) throws -> [Float] {
        guard count > 0 else { return [] }
        switch self {
        case .standardNormal(let dimension):
            return try Self.normalDraws(count * dimension, seed: seed, device: device)
        case .gaussian(let mean, let std):
            let l = mean.count
            var z = try Self.normalDraws(count * l, seed: seed, device: device)
            for row in 0..<count {
                for j in 0..<l { z[row * l + j] = Float(mean[j] + std[j] * Double(z[row * l + j])) }
            }
            return z
        case .categorical(let frequencies, let codebook, let d):
            var generator = SplitMix64(seed: seed)
            var z: [Float] = []
            z.reserveCapacity(count * frequencies.count * d)
            for _ in 0..<count {
                for distribution in frequencies {
                    let k = Self.draw(from: distribution, using: &generator)
                    z += codebook[(k * d)..<((k + 1) * d)]
                }
            }
            return z
        }
    }

    /// `count` standard normal draws from the device's Philox generator.
    private static func normalDraws(_ count: Int, seed: UInt64, device: any Device) throws -> [Float] {
        let buffer = try device.makeBuffer(count: count, dtype: .float32)
        device.fillNormal(buffer.whole, mean: 0, std: 1, random: RandomStream(seed: seed, stream: 0x5A4D_B1E5))
        let values = device.read(buffer.whole)
        try device.checkHealth()
        return values
    }

    /// The smallest k with u < Σ_{j≤k} π_j for u uniform in [0, 1) (the last used code if rounding leaves u above
    /// the total).
    private static func draw(from distribution: [Double], using generator: inout SplitMix64) -> Int {
        let u = Double(generator.next() >> 11) * 0x1p-53
        var cumulative = 0.0
        var last = 0
        for (k, p) in distribution.enumerated() where p > 0 {
            cumulative += p
            last = k
            if u < cumulative { return k }
        }
        return last
    }
}
