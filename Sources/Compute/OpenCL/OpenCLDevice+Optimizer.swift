extension OpenCLDevice: OptimizerPrimitives {
    public func adamUpdate(parameters: BufferSlice, gradients: BufferSlice, m: BufferSlice, v: BufferSlice,
                           step: Int, hyper: AdamParameters, gradientScale: BufferSlice?) {
        let count = parameters.count
        precondition(gradients.count == count && m.count == count && v.count == count, "adamUpdate operand sizes")
        precondition(step >= 1, "Adam steps count from 1")
        if let gradientScale { precondition(gradientScale.count == 1, "gradientScale is one element") }
        let c = AdamConstants(hyper, step: step)
        launch("adam_update", global: [count], local: [Self.pointwiseGroup], [
            .buffer(parameters), .buffer(gradients), .buffer(m), .buffer(v),
            optional(gradientScale), .int(gradientScale == nil ? 0 : 1), .int(count),
            .float(c.beta1), .float(c.oneMinusBeta1), .float(c.beta2), .float(c.oneMinusBeta2),
            .float(c.epsilon), .float(c.stepSize), .float(c.biasCorrection2Sqrt), .float(c.l2), .float(c.decay),
        ])
    }

    public func sgdUpdate(parameters: BufferSlice, gradients: BufferSlice, velocity: BufferSlice?,
                          learningRate: Float, momentum: Float, weightDecay: Float, gradientScale: BufferSlice?) {
        let count = parameters.count
        precondition(gradients.count == count, "sgdUpdate operand sizes")
        if let gradientScale { precondition(gradientScale.count == 1, "gradientScale is one element") }
        let buffer = momentum != 0 ? velocity : nil
        if let buffer { precondition(buffer.count == count, "sgdUpdate velocity size") }
        launch("sgd_update", global: [count], local: [Self.pointwiseGroup], [
            .buffer(parameters), .buffer(gradients), optional(buffer), .int(buffer == nil ? 0 : 1),
            optional(gradientScale), .int(gradientScale == nil ? 0 : 1), .int(count),
            .float(learningRate), .float(momentum), .float(weightDecay),
        ])
    }

    public func clipScale(squaredNorm: BufferSlice, maxNorm: Float, into scale: BufferSlice) {
        precondition(squaredNorm.count == 1 && scale.count == 1, "clipScale operands are one element")
        launch("clip_scale", global: [1], [.buffer(squaredNorm), .buffer(scale), .float(maxNorm)])
    }
}
