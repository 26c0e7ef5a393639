extension OpenCLDevice: VAEPrimitives {
    /// Work-group size of the fused latent pass: `LATENT_WG` in `Kernels/vae.cl`.
    static let latentGroup = 256
    /// Elements (batch·dim) one work group of the fused latent pass takes: up to this, one launch does it all.
    private static let latentElementsPerGroup = 8192

    public func reparameterize(mu: BufferSlice, logvar: BufferSlice, eps: BufferSlice, into z: BufferSlice,
                               random: RandomStream) {
        let n = mu.count
        precondition(logvar.count == n && eps.count == n && z.count == n, "reparameterize operand sizes")
        launch("vae_reparameterize", global: [random.pairBlocks(n)], local: [Self.elementGroup], [
            .buffer(mu), .buffer(logvar), .buffer(eps), .buffer(z), .int(n), .ulong(random.seed), .ulong(random.stream),
            .ulong(random.offset),
        ])
    }

    public func reparameterizeBackward(_ dz: BufferSlice, logvar: BufferSlice, eps: BufferSlice,
                                       dmu: BufferSlice, dlogvar: BufferSlice, accumulate: Bool) {
        let n = dz.count
        precondition(logvar.count == n && eps.count == n && dmu.count == n && dlogvar.count == n,
                     "reparameterizeBackward operand sizes")
        launch("vae_reparameterize_backward", global: [n], local: [Self.elementGroup], [
            .buffer(dz), .buffer(logvar), .buffer(eps), .buffer(dmu), .buffer(dlogvar), .int(n), .int(accumulate ? 1 : 0),
        ])
    }

    public func gaussianLatent(mu: BufferSlice, logvar: BufferSlice, batch: Int, dim: Int, eps: BufferSlice,
                               into z: BufferSlice, random: RandomStream, klPerSample: BufferSlice,
                               klPerDimension: BufferSlice, klDimensionSums: BufferSlice?) {
        precondition(batch > 0 && dim > 0, "gaussianLatent needs a positive batch and dimension")
        let n = batch * dim
        precondition(mu.count == n && logvar.count == n && eps.count == n && z.count == n && klPerSample.count == batch
                     && klPerDimension.count == dim && (klDimensionSums?.count ?? dim) == dim, "gaussianLatent operand sizes")
        let rowsPerGroup = max(1, Self.latentElementsPerGroup / dim)
        let groups = (batch + rowsPerGroup - 1) / rowsPerGroup
        let head: [Argument] = [.buffer(mu), .buffer(logvar), .buffer(eps), .buffer(z), .buffer(klPerSample)]
        let sums: [Argument] = [optional(klDimensionSums)]
        func forward(rowsPerGroup: Int, groups: Int, columns: BufferSlice, partial: Bool) {
            launch("vae_latent_forward", global: [groups * Self.latentGroup], local: [Self.latentGroup], head + [
                .buffer(columns)] + sums + [.int(batch), .int(dim), .int(rowsPerGroup), .int(partial ? 1 : 0),
                .int(klDimensionSums == nil ? 0 : 1), .ulong(random.seed), .ulong(random.stream), .ulong(random.offset),
            ])
        }
        guard groups > 1 else {
            forward(rowsPerGroup: batch, groups: 1, columns: klPerDimension, partial: false)
            return
        }
        // Per-group column sums in the shared workspace, held from the first kernel to the second.
        latentWorkspace.lock.lock()
        defer { latentWorkspace.lock.unlock() }
        guard let partials = latentWorkspace.slice(count: groups * dim, on: self) else {
            // No memory for the workspace: one group needs none.
            forward(rowsPerGroup: batch, groups: 1, columns: klPerDimension, partial: false)
            return
        }
        forward(rowsPerGroup: rowsPerGroup, groups: groups, columns: partials, partial: true)
        launch("vae_kl_dimension_final", global: [dim], local: [Self.elementGroup], [
            .buffer(partials), .buffer(klPerDimension)] + sums + [.int(groups), .int(dim), .int(batch),
            .int(klDimensionSums == nil ? 0 : 1),
        ])
    }

    public func gaussianLatentBackward(_ dz: BufferSlice, mu: BufferSlice, logvar: BufferSlice, eps: BufferSlice,
                                       batch: Int, dim: Int, klWeight: Float, dimensionMask: BufferSlice?,
                                       dmu: BufferSlice, dlogvar: BufferSlice) {
        let n = batch * dim
        precondition([dz, mu, logvar, eps, dmu, dlogvar].allSatisfy { $0.count == n }
                     && (dimensionMask?.count ?? dim) == dim, "gaussianLatentBackward operand sizes")
        guard n > 0 else { return }
        launch("vae_latent_backward", global: [n], local: [Self.elementGroup], [
            .buffer(dz), .buffer(mu), .buffer(logvar), .buffer(eps), optional(dimensionMask), .buffer(dmu),
            .buffer(dlogvar), .int(n), .int(dim), .float(klWeight), .int(dimensionMask == nil ? 0 : 1),
        ])
    }

    public func klBackward(mu: BufferSlice, logvar: BufferSlice, batch: Int, dim: Int, weight: Float,
                           dimensionMask: BufferSlice?, dmu: BufferSlice, dlogvar: BufferSlice) {
        let n = batch * dim
        precondition(mu.count == n && logvar.count == n && dmu.count == n && dlogvar.count == n,
                     "klBackward operand sizes")
        if let dimensionMask { precondition(dimensionMask.count == dim, "klBackward mask size") }
        launch("vae_kl_backward", global: [n], local: [Self.elementGroup], [
            .buffer(mu), .buffer(logvar), optional(dimensionMask), .buffer(dmu), .buffer(dlogvar),
            .int(n), .int(dim), .float(weight), .int(dimensionMask == nil ? 0 : 1),
        ])
    }
}
