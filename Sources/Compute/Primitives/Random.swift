/// Where a stream of random numbers comes from: the Philox4x32-10 key (the seed) and a stream number
/// (for instance the training step times a few purposes), so that draws are reproducible and identical
/// on every backend.
///
/// Element `i` of a uniform fill uses word `i mod 4` of the block whose counter is
/// `(⌊i/4⌋ low, ⌊i/4⌋ high, stream low, stream high)` under key `(seed low, seed high)`.
/// A normal fill takes words 0 and 1 of block `⌊i/2⌋` for element pairs (Box–Muller, cos then sin).
public struct RandomStream: Equatable, Sendable {
    public var seed: UInt64
    public var stream: UInt64
    public init(seed: UInt64, stream: UInt64) {
        self.seed = seed
        self.stream = stream
    }
}

/// How a denoising autoencoder corrupts its input.
public enum Corruption: Equatable, Sendable {
    /// x + σ·ε, ε ~ N(0, 1).
    case gaussian(sigma: Float)
    /// Each element is set to 0 with probability p.
    case masking(probability: Float)
    /// Each element is set to `low` or `high` (half each) with probability p.
    case saltAndPepper(probability: Float, low: Float, high: Float)
}

/// Counter-based random numbers (Philox4x32-10) and the operations built on them.
public protocol RandomPrimitives {
    /// Uniform draws in [low, high).
    func fillUniform(_ x: BufferSlice, low: Float, high: Float, random: RandomStream)
    /// Normal draws with the given mean and standard deviation.
    func fillNormal(_ x: BufferSlice, mean: Float, std: Float, random: RandomStream)
    /// Dropout mask: each element is `scale` with probability `keep`, else 0.
    func fillBernoulli(_ x: BufferSlice, keep: Float, scale: Float, random: RandomStream)
    /// y = corrupt(x).
    func corrupt(_ x: BufferSlice, into y: BufferSlice, corruption: Corruption, random: RandomStream)
}
