import Layers

/// Builds the encoder and decoder networks of a ``ModelConfig``, with PyTorch's module layout so that parameter
/// names match the equivalent `nn.Sequential` modules (`encoder.0.weight`, `decoder.4.bias`, …).
///
/// A layer followed by batch norm has no bias (PyTorch's `bias=False`): the normalization subtracts the batch mean,
/// which cancels any bias, so its gradient would be rounding noise that Adam turns into full steps (and that
/// data-parallel ranks would each turn differently).
enum Networks {
    /// The encoder's shared body (before the layers its latent ends it with) and the width of its output.
    static func encoderBody(_ config: ModelConfig) -> (layers: [any Layer], width: Int) {
        var layers: [any Layer] = []
        let normalize = config.batchNorm != .none
        switch config.architecture {
        case .mlp:
            var width = config.inputDimension
            for next in config.hidden {
                layers.append(Linear(width, next, bias: !normalize))
                if normalize { layers.append(BatchNorm1d(next)) }
                layers.append(ReLU())
                width = next
            }
            return (layers, width)
        case .conv:
            var channels = config.inputShape[0]
            for next in config.channels {
                layers.append(Conv2d(channels, next, kernelSize: 4, stride: 2, padding: 1, bias: !normalize))
                if normalize { layers.append(BatchNorm2d(next)) }
                layers.append(ReLU())
                channels = next
            }
            let side = 1 << config.channels.count
            layers.append(Flatten())
            layers.append(Linear(channels * (config.inputShape[1] / side) * (config.inputShape[2] / side), config.denseWidth,
                                 bias: !normalize))
            if normalize { layers.append(BatchNorm1d(config.denseWidth)) }
            layers.append(ReLU())
            return (layers, config.denseWidth)
        }
    }

    /// The decoder from the latent to the input's shape; its last layer is linear (logits for Bernoulli data).
    static func decoder(_ config: ModelConfig) -> Sequential {
        var layers: [any Layer] = []
        let normalize = config.batchNorm == .both
        switch config.architecture {
        case .mlp:
            var width = config.latentDim
            for next in config.hidden.reversed() {
                layers.append(Linear(width, next, bias: !normalize))
                if normalize { layers.append(BatchNorm1d(next)) }
                layers.append(ReLU())
                width = next
            }
            layers.append(Linear(width, config.inputDimension))
        case .conv:
            let side = 1 << config.channels.count
            let (h, w) = (config.inputShape[1] / side, config.inputShape[2] / side)
            let deepest = config.channels.last ?? config.inputShape[0]
            layers.append(Linear(config.latentDim, config.denseWidth, bias: !normalize))
            if normalize { layers.append(BatchNorm1d(config.denseWidth)) }
            layers.append(ReLU())
            layers.append(Linear(config.denseWidth, deepest * h * w, bias: !normalize))
            if normalize { layers.append(BatchNorm1d(deepest * h * w)) }
            layers.append(ReLU())
            layers.append(Reshape([deepest, h, w]))
            let widths = Array(config.channels.reversed().dropFirst()) + [config.inputShape[0]]
            var channels = deepest
            for (i, next) in widths.enumerated() {
                let hidden = i < widths.count - 1
                layers.append(ConvTranspose2d(channels, next, kernelSize: 4, stride: 2, padding: 1, bias: !(normalize && hidden)))
                if hidden {
                    if normalize { layers.append(BatchNorm2d(next)) }
                    layers.append(ReLU())
                }
                channels = next
            }
        }
        return Sequential(layers)
    }
}
