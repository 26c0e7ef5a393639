/// The Gaussian latent of a variational autoencoder: reparameterization and KL(q(z|x) ‖ N(0, I)).
/// μ and log σ² are batch×dim matrices.
public protocol VAEPrimitives {
    /// Draws ε ~ N(0, I) (as ``RandomPrimitives/fillNormal(_:mean:std:random:)`` would) into `eps` and
    /// writes z = μ + exp(½·logvar)·ε.
    func reparameterize(mu: BufferSlice, logvar: BufferSlice, eps: BufferSlice, into z: BufferSlice,
                        random: RandomStream)
    /// dμ = dz and dlogvar = dz·ε·½·exp(½·logvar); added when `accumulate`.
    func reparameterizeBackward(_ dz: BufferSlice, logvar: BufferSlice, eps: BufferSlice,
                                dmu: BufferSlice, dlogvar: BufferSlice, accumulate: Bool)
    /// KL per element is −½(1 + logvar − μ² − exp(logvar)). Writes its sum over dimensions for each
    /// sample into `perSample` (batch) and its mean over the batch for each dimension into
    /// `perDimension` (dim). Both reductions run in a fixed order (deterministic on every backend).
    func klDivergence(mu: BufferSlice, logvar: BufferSlice, batch: Int, dim: Int,
                      perSample: BufferSlice, perDimension: BufferSlice)
    /// Adds the gradient of weight·KL: dμ += w·m·μ, dlogvar += w·m·½(exp(logvar) − 1), where m is
    /// `dimensionMask[j]` (a float view of `dim` elements; free bits switch a dimension's gradient off)
    /// or 1 when no mask is given.
    func klBackward(mu: BufferSlice, logvar: BufferSlice, batch: Int, dim: Int, weight: Float,
                    dimensionMask: BufferSlice?, dmu: BufferSlice, dlogvar: BufferSlice)
}
