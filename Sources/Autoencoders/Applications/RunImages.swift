import Foundation

/// Draws a run's samples, reconstructions and decoded codes as image grids.
///
/// Model outputs are in normalized units; they are first mapped back with the run's normalizer,
/// x = y·divisor + shift, then the run's pixel range [lo, hi] is stretched to [0, 1] for ``ImageGrid``:
/// v = (x − lo)/(hi − lo). The range comes from the normalizer: [minⱼ shiftⱼ, maxⱼ (shiftⱼ + divisorⱼ)] for min–max
/// scaling (the training data's range), [minⱼ (μⱼ − 3σⱼ), maxⱼ (μⱼ + 3σⱼ)] for z-scores, and [0, 1] for data used
/// as it is (the bundled digits and generated shapes).
public struct RunImages: Sendable {
    /// Channels (1 gray or 3 RGB), height and width of one sample.
    public let channels: Int
    public let height: Int
    public let width: Int
    /// The run's normalizer.
    public let normalizer: Normalizer
    /// The pixel range mapped to black … white.
    public let range: ClosedRange<Float>

    /// The image geometry of a run.
    ///
    /// - Throws: `ConfigError.invalid`, saying why, when the run's samples are not images of 1 or 3 channels.
    public init(config: RunConfig) throws {
        let shape = config.data.shape
        guard shape.count == 3, shape[0] == 1 || shape[0] == 3 else {
            throw ConfigError.invalid("this command draws images, but the run's samples have shape \(shape), not [C, H, W] with 1 or 3 channels: use `autoencoder encode` for table data")
        }
        (channels, height, width) = (shape[0], shape[1], shape[2])
        normalizer = config.data.normalizer
        let n = normalizer
        switch n.method {
        case .none:
            range = 0...1
        case .minmax:
            let low = n.shift.min() ?? 0
            let high = zip(n.shift, n.divisor).map(+).max() ?? 1
            range = low < high ? low...high : low...(low + 1)
        case .zscore:
            let low = zip(n.shift, n.divisor).map { $0 - 3 * $1 }.min() ?? 0
            let high = zip(n.shift, n.divisor).map { $0 + 3 * $1 }.max() ?? 1
            range = low < high ? low...high : low...(low + 1)
        }
    }

    /// Values per image, C·H·W.
    public var imageSize: Int { channels * height * width }

    /// Each image pixel becomes a block of this many screen pixels, so a tile is about 48 pixels wide.
    public var tileScale: Int { max(1, 48 / max(height, width)) }

    /// Model-space values (whole images) as values in [0, 1] for drawing.
    public func displayValues(_ normalized: [Float]) -> [Float] {
        var values = normalized
        normalizer.invert(&values)
        let low = range.lowerBound, span = range.upperBound - range.lowerBound
        return values.map { ($0 - low) / span }
    }

    /// A grid of the images in `normalized` (model space), `columns` per row.
    public func grid(_ normalized: [Float], columns: Int, rowLabels: [String] = [], columnLabels: [String] = [],
                     title: String = "") -> Raster {
        precondition(normalized.count % imageSize == 0, "values are not whole images")
        let grid = ImageGrid(columns: columns, scale: tileScale, padding: 2, rowLabels: rowLabels,
                             columnLabels: columnLabels, title: title)
        return grid.render(displayValues(normalized), count: normalized.count / imageSize, channels: channels,
                           height: height, width: width)
    }

    /// Inputs over their reconstructions: rows alternate `columns` inputs and the same `columns` reconstructions.
    public func reconstructionGrid(inputs: [Float], outputs: [Float], columns: Int, title: String = "") -> Raster {
        precondition(inputs.count == outputs.count && inputs.count % imageSize == 0, "inputs and outputs differ")
        let count = inputs.count / imageSize, size = imageSize
        let columns = max(1, min(columns, count))
        // black tiles (the lowest pixel value, in model space) complete a short last pair of rows
        var blank = [Float](repeating: range.lowerBound, count: size)
        normalizer.apply(&blank)
        var interleaved: [Float] = [], labels: [String] = []
        for start in stride(from: 0, to: count, by: columns) {
            let end = min(count, start + columns)
            let fill = Array(repeatElement(blank, count: columns - (end - start)).joined())
            interleaved += inputs[(start * size)..<(end * size)] + fill
            interleaved += outputs[(start * size)..<(end * size)] + fill
            labels += ["input", "recon"]
        }
        return grid(interleaved, columns: columns, rowLabels: labels, title: title)
    }
}
