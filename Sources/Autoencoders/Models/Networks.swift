import Layers

/// Builds the encoder and decoder networks of a ``ModelConfig``, with PyTorch's module layout so that parameter
/// names match the equivalent `nn.Sequential` modules (`encoder.0.weight`, `decoder.4.bias`, …).
enum Networks {
    /// The encoder: the shared body and, for every kind but the VAEs, the final projection to the latent.
    /// Returns the network and the width of its output.
    static func encoder(_ config: ModelConfig) -> (Sequential, Int) {
        var layers: [any Layer] = []
        let normalize = config.batchNorm != .none
        var width: Int
        switch config.architecture {
        case .mlp:
            width = config.inputDimension
            for next in config.hidden {
                layers.append(Linear(width, next))
                if normalize { layers.append(BatchNorm1d(next)) }
                layers.append(ReLU())
                width = next
            }
        case .conv:
            var channels = config.inputShape[0]
            for next in config.channels {
                layers.append(Conv2d(channels, next, kernelSize: 4, stride: 2, padding: 1))
                if normalize { layers.append(BatchNorm2d(next)) }
                layers.append(ReLU())
                channels = next
            }
            let side = 1 << config.channels.count
            layers.append(Flatten())
            layers.append(Linear(channels * (config.inputShape[1] / side) * (config.inputShape[2] / side), config.denseWidth))
            if normalize { layers.append(BatchNorm1d(config.denseWidth)) }
            layers.append(ReLU())
            width = config.denseWidth
        }
        switch config.kind {
        case .vae, .betaVAE:
            break
        case .ae, .denoising, .vqVAE:
            layers.append(Linear(width, config.latentDim))
            width = config.latentDim
        case .sparse:
            layers.append(Linear(width, config.latentDim))
            if case .l1 = config.sparsity { layers.append(ReLU()) }
            width = config.latentDim
        case .contractive:
            layers.append(Linear(width, config.latentDim))
            layers.append(Sigmoid())
            width = config.latentDim
        }
        return (Sequential(layers), width)
    }

    /// The decoder from the latent to the input's shape; its last layer is linear (logits for Bernoulli data).
    static func decoder(_ config: ModelConfig) -> Sequential {
        var layers: [any Layer] = []
        let normalize = config.batchNorm == .both
        switch config.architecture {
        case .mlp:
            var width = config.latentDim
            for next in config.hidden.reversed() {
                layers.append(Linear(width, next))
                if normalize { layers.append(BatchNorm1d(next)) }
                layers.append(ReLU())
                width = next
            }
            layers.append(Linear(width, config.inputDimension))
        case .conv:
            let side = 1 << config.channels.count
            let (h, w) = (config.inputShape[1] / side, config.inputShape[2] / side)
            let deepest = config.channels.last ?? config.inputShape[0]
            layers.append(Linear(config.latentDim, config.denseWidth))
            if normalize { layers.append(BatchNorm1d(config.denseWidth)) }
            layers.append(ReLU())
            layers.append(Linear(config.denseWidth, deepest * h * w))
            if normalize { layers.append(BatchNorm1d(deepest * h * w)) }
            layers.append(ReLU())
            layers.append(Reshape([deepest, h, w]))
            let widths = Array(config.channels.reversed().dropFirst()) + [config.inputShape[0]]
            var channels = deepest
            for (i, next) in widths.enumerated() {
                layers.append(ConvTranspose2d(channels, next, kernelSize: 4, stride: 2, padding: 1))
                if i < widths.count - 1 {
                    if normalize { layers.append(BatchNorm2d(next)) }
                    layers.append(ReLU())
                }
                channels = next
            }
        }
        return Sequential(layers)
    }
}
