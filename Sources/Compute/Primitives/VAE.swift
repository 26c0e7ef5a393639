/// The Gaussian latent of a variational autoencoder: reparameterization and KL(q(z|x) ‖ N(0, I)).
/// μ and log σ² are batch×dim matrices. The KL of one element is −½(1 + logvar − μ² − exp(logvar)).
public protocol VAEPrimitives {
    /// Draws ε ~ N(0, I) (as ``RandomPrimitives/fillNormal(_:mean:std:random:)`` would) into `eps` and
    /// writes z = μ + exp(½·logvar)·ε.
    func reparameterize(mu: BufferSlice, logvar: BufferSlice, eps: BufferSlice, into z: BufferSlice,
                        random: RandomStream)
    /// dμ = dz and dlogvar = dz·ε·½·exp(½·logvar); added when `accumulate`.
    func reparameterizeBackward(_ dz: BufferSlice, logvar: BufferSlice, eps: BufferSlice,
                                dmu: BufferSlice, dlogvar: BufferSlice, accumulate: Bool)
    /// The forward pass of the latent in one primitive (one kernel launch on OpenCL for batch·dim up to 8,192):
    /// draws ε and writes z exactly as ``reparameterize(mu:logvar:eps:into:random:)``; writes the KL summed over
    /// dimensions for each sample into `klPerSample` (batch) and its mean over the batch for each dimension
    /// into `klPerDimension` (dim); when `klDimensionSums` (dim) is given, adds `klPerDimension` to it.
    /// The sums run in an order fixed by the shape (deterministic on every backend). `batch` and `dim` are positive.
    func gaussianLatent(mu: BufferSlice, logvar: BufferSlice, batch: Int, dim: Int, eps: BufferSlice,
                        into z: BufferSlice, random: RandomStream, klPerSample: BufferSlice,
                        klPerDimension: BufferSlice, klDimensionSums: BufferSlice?)
    /// The backward pass of the latent for the loss L(z) + weight·Σ KL in one primitive: with m_j =
    /// `dimensionMask[j]` (free bits switch a dimension's KL gradient off) or 1 when no mask is given, writes
    /// dμ = dz + w·m_j·μ and dlogvar = dz·ε·½·exp(½·logvar) + w·m_j·½(exp(logvar) − 1), where w = `klWeight`.
    func gaussianLatentBackward(_ dz: BufferSlice, mu: BufferSlice, logvar: BufferSlice, eps: BufferSlice,
                                batch: Int, dim: Int, klWeight: Float, dimensionMask: BufferSlice?,
                                dmu: BufferSlice, dlogvar: BufferSlice)
    /// Adds the gradient of weight·KL: dμ += w·m·μ, dlogvar += w·m·½(exp(logvar) − 1), where m is
    /// `dimensionMask[j]` (a float view of `dim` elements; free bits switch a dimension's gradient off)
    /// or 1 when no mask is given.
    func klBackward(mu: BufferSlice, logvar: BufferSlice, batch: Int, dim: Int, weight: Float,
                    dimensionMask: BufferSlice?, dmu: BufferSlice, dlogvar: BufferSlice)
}
