extension OpenCLDevice: VAEPrimitives {
    /// Work-group size of the KL reductions: `KL_WG` in `Kernels/vae.cl`.
    private static let klGroup = 64

    public func reparameterize(mu: BufferSlice, logvar: BufferSlice, eps: BufferSlice, into z: BufferSlice,
                               random: RandomStream) {
        let n = mu.count
        precondition(logvar.count == n && eps.count == n && z.count == n, "reparameterize operand sizes")
        launch("vae_reparameterize", global: [(n + 1) / 2], local: [64], [
            .buffer(mu), .buffer(logvar), .buffer(eps), .buffer(z), .int(n), .ulong(random.seed), .ulong(random.stream),
        ])
    }

    public func reparameterizeBackward(_ dz: BufferSlice, logvar: BufferSlice, eps: BufferSlice,
                                       dmu: BufferSlice, dlogvar: BufferSlice, accumulate: Bool) {
        let n = dz.count
        precondition(logvar.count == n && eps.count == n && dmu.count == n && dlogvar.count == n,
                     "reparameterizeBackward operand sizes")
        launch("vae_reparameterize_backward", global: [n], local: [64], [
            .buffer(dz), .buffer(logvar), .buffer(eps), .buffer(dmu), .buffer(dlogvar), .int(n), .int(accumulate ? 1 : 0),
        ])
    }

    public func klDivergence(mu: BufferSlice, logvar: BufferSlice, batch: Int, dim: Int,
                             perSample: BufferSlice, perDimension: BufferSlice) {
        precondition(mu.count == batch * dim && logvar.count == batch * dim && perSample.count == batch
                     && perDimension.count == dim, "klDivergence operand sizes")
        let group = Self.klGroup
        launch("vae_kl_per_sample", global: [batch * group], local: [group], [
            .buffer(mu), .buffer(logvar), .buffer(perSample), .int(batch), .int(dim),
        ])
        launch("vae_kl_per_dimension", global: [dim * group], local: [group], [
            .buffer(mu), .buffer(logvar), .buffer(perDimension), .int(batch), .int(dim),
        ])
    }

    public func klBackward(mu: BufferSlice, logvar: BufferSlice, batch: Int, dim: Int, weight: Float,
                           dimensionMask: BufferSlice?, dmu: BufferSlice, dlogvar: BufferSlice) {
        let n = batch * dim
        precondition(mu.count == n && logvar.count == n && dmu.count == n && dlogvar.count == n,
                     "klBackward operand sizes")
        if let dimensionMask { precondition(dimensionMask.count == dim, "klBackward mask size") }
        launch("vae_kl_backward", global: [n], local: [64], [
            .buffer(mu), .buffer(logvar), optional(dimensionMask), .buffer(dmu), .buffer(dlogvar),
            .int(n), .int(dim), .float(weight), .int(dimensionMask == nil ? 0 : 1),
        ])
    }
}
