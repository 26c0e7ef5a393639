/// Where a stream of random numbers comes from: the Philox4x32-10 key (the seed) and a stream number
/// (for instance the training step times a few purposes), so that draws are reproducible and identical
/// on every backend.
///
/// Element `i` of a uniform fill uses word `i mod 4` of the block whose counter is
/// `(⌊i/4⌋ low, ⌊i/4⌋ high, stream low, stream high)` under key `(seed low, seed high)`.
/// A normal fill takes words 0 and 1 of block `⌊i/2⌋` for element pairs (Box–Muller, cos then sin):
/// with u₁ = (w₀ >> 8 + 1)·2⁻²⁴ and u₂ = (w₁ >> 8)·2⁻²⁴, element 2b is √(−2 ln u₁)·cos(2πu₂) and
/// element 2b + 1 is √(−2 ln u₁)·sin(2πu₂). A uniform word w becomes (w >> 8)·2⁻²⁴ ∈ [0, 1).
/// Indices count from ``offset``: element `j` of the view being filled draws element `offset + j` of the stream, so a
/// view of rows r..<r+k of a batch, drawn with the offset of row r, draws exactly what those rows draw when the
/// whole batch is filled (``advanced(by:)``): what a data-parallel rank needs to draw its slice of a global batch.
public struct RandomStream: Equatable, Sendable {
    /// The Philox key: words 0 and 1 are its low and high halves.
    public var seed: UInt64
    /// Counter words 2 and 3: separates the draws of different steps and purposes under one seed.
    public var stream: UInt64
    /// The stream element the first element of a filled view draws.
    public var offset: UInt64

    /// A stream of draws under key `seed`, from its element `offset` on.
    public init(seed: UInt64, stream: UInt64, offset: UInt64 = 0) {
        self.seed = seed
        self.stream = stream
        self.offset = offset
    }

    /// The same stream from `elements` further on: the draws of a view that starts `elements` into the view this
    /// stream fills.
    public func advanced(by elements: Int) -> RandomStream {
        precondition(elements >= 0, "a stream advances by a non-negative number of elements")
        return RandomStream(seed: seed, stream: stream, offset: offset + UInt64(elements))
    }
}

/// How a denoising autoencoder corrupts its input.
///
/// Every case draws from the ``RandomStream`` exactly as the fills do, so both backends corrupt the same
/// elements: ``gaussian(sigma:)`` uses the normal draw nᵢ of ``RandomPrimitives/fillNormal(_:mean:std:random:)``,
/// the other cases use the single uniform draw uᵢ of ``RandomPrimitives/fillUniform(_:low:high:random:)``
/// (word i mod 4 of block ⌊i/4⌋).
public enum Corruption: Equatable, Sendable {
    /// yᵢ = xᵢ + σ·nᵢ, nᵢ ~ N(0, 1).
    case gaussian(sigma: Float)
    /// Each element is set to 0 with probability p: yᵢ = uᵢ < p ? 0 : xᵢ.
    case masking(probability: Float)
    /// Each element is set to `low` or `high` (half each) with probability p:
    /// yᵢ = uᵢ < p/2 ? low : (uᵢ < p ? high : xᵢ).
    case saltAndPepper(probability: Float, low: Float, high: Float)
}

/// Counter-based random numbers (Philox4x32-10) and the operations built on them.
public protocol RandomPrimitives {
    /// Uniform draws: xᵢ = low + (high − low)·uᵢ with uᵢ ∈ [0, 1) (in [low, high] after rounding).
    func fillUniform(_ x: BufferSlice, low: Float, high: Float, random: RandomStream)
    /// Normal draws with the given mean and standard deviation: xᵢ = mean + std·nᵢ.
    func fillNormal(_ x: BufferSlice, mean: Float, std: Float, random: RandomStream)
    /// Dropout mask: each element is `scale` with probability `keep`, else 0 (xᵢ = uᵢ < keep ? scale : 0).
    func fillBernoulli(_ x: BufferSlice, keep: Float, scale: Float, random: RandomStream)
    /// y = corrupt(x), element by element (`y` may be `x` itself); see ``Corruption`` for the draws used.
    func corrupt(_ x: BufferSlice, into y: BufferSlice, corruption: Corruption, random: RandomStream)
}
