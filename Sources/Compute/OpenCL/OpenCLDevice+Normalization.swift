extension OpenCLDevice: NormalizationPrimitives {
    /// Work items per channel in the reductions (`BN_GROUP` in Kernels/norm.cl).
    static let batchNormGroup = 256

    public func batchNormForward(_ x: BufferSlice, gamma: BufferSlice, beta: BufferSlice,
                                 runningMean: BufferSlice, runningVar: BufferSlice,
                                 savedMean: BufferSlice, savedInvStd: BufferSlice, into y: BufferSlice,
                                 n: Int, channels: Int, spatial: Int, momentum: Float, epsilon: Float, training: Bool) {
        let count = n * channels * spatial
        precondition(x.count == count && y.count == count, "batchNormForward operand sizes")
        precondition([gamma, beta, runningMean, runningVar, savedMean, savedInvStd].allSatisfy { $0.count == channels },
                     "batchNormForward per-channel sizes")
        if training {
            precondition(n * spatial >= 1, "training batch norm needs at least one value per channel")
            let group = Self.batchNormGroup
            launch("batch_norm_train", global: [channels * group], local: [group], [
                .buffer(x), .buffer(gamma), .buffer(beta), .buffer(runningMean), .buffer(runningVar),
                .buffer(savedMean), .buffer(savedInvStd), .buffer(y),
                .int(n), .int(channels), .int(spatial), .float(momentum), .float(epsilon),
            ])
        } else {
            launch("batch_norm_eval", global: [count], local: [Self.pointwiseGroup], [
                .buffer(x), .buffer(gamma), .buffer(beta), .buffer(runningMean), .buffer(runningVar), .buffer(y),
                .int(count), .int(channels), .int(spatial), .float(epsilon),
            ])
        }
    }

    public func batchNormBackward(_ dy: BufferSlice, x: BufferSlice, gamma: BufferSlice,
                                  savedMean: BufferSlice, savedInvStd: BufferSlice,
                                  dx: BufferSlice, dgamma: BufferSlice, dbeta: BufferSlice,
                                  n: Int, channels: Int, spatial: Int) {
        let count = n * channels * spatial
        precondition(dy.count == count && x.count == count && dx.count == count, "batchNormBackward operand sizes")
        precondition([gamma, savedMean, savedInvStd, dgamma, dbeta].allSatisfy { $0.count == channels },
                     "batchNormBackward per-channel sizes")
        guard n * spatial > 0 else { return }
        let group = Self.batchNormGroup
        launch("batch_norm_backward", global: [channels * group], local: [group], [
            .buffer(dy), .buffer(x), .buffer(gamma), .buffer(savedMean), .buffer(savedInvStd),
            .buffer(dx), .buffer(dgamma), .buffer(dbeta), .int(n), .int(channels), .int(spatial),
        ])
    }
}
