import Foundation

/// Several named (x, y) series drawn as lines on shared axes, with grid, tick labels, axis titles and a legend.
///
/// Used for loss curves (total, reconstruction, KL, β against step or epoch), for "validation loss against latent
/// size" (with markers, often with a log x axis) and, through `roc(_:title:)`, for ROC curves. Non-finite points,
/// and non-positive ones on a log axis, break a line instead of ending the plot.
public struct LinePlot: Sendable {
    /// How a series' line is drawn.
    public enum Style: Sendable, Equatable {
        /// A continuous line.
        case solid
        /// A dashed line.
        case dashed
    }

    /// One named curve.
    public struct Series: Sendable {
        /// Legend name; an empty name leaves the series out of the legend.
        public var name: String
        /// Abscissae, as many as `y`.
        public var x: [Double]
        /// Ordinates.
        public var y: [Double]
        /// Line colour; nil takes colour number i of `RGBColor.palette` for the i-th series.
        public var color: RGBColor?
        /// Solid or dashed.
        public var style: Style
        /// Whether a dot marks every point.
        public var markers: Bool
        /// Line width in pixels.
        public var lineWidth: Double

        /// A series through the points (x[i], y[i]); `x` and `y` must have the same length.
        public init(
            name: String, x: [Double], y: [Double], color: RGBColor? = nil, style: Style = .solid,
            markers: Bool = false, lineWidth: Double = 2
        ) {
            precondition(x.count == y.count, "series \(name): \(x.count) x values but \(y.count) y values")
            self.name = name
            self.x = x
            self.y = y
            self.color = color
            self.style = style
            self.markers = markers
            self.lineWidth = lineWidth
        }

        /// A series with x = 0, 1, 2, … (for example one value per step or epoch).
        public init(name: String, y: [Double], color: RGBColor? = nil, style: Style = .solid, markers: Bool = false) {
            self.init(name: name, x: y.indices.map(Double.init), y: y, color: color, style: style, markers: markers)
        }
    }

    /// Title above the plot (may be empty).
    public var title: String
    /// Title of the x axis (may be empty).
    public var xLabel: String
    /// Title of the y axis, written vertically (may be empty).
    public var yLabel: String
    /// The curves, drawn in order.
    public var series: [Series]
    /// Whether the x axis is logarithmic (base 10).
    public var logX: Bool
    /// Whether the y axis is logarithmic (base 10).
    public var logY: Bool
    /// Fixed x range; nil fits the data.
    public var xRange: ClosedRange<Double>?
    /// Fixed y range; nil fits the data.
    public var yRange: ClosedRange<Double>?
    /// Canvas width in pixels (grown if the margins need more).
    public var width: Int
    /// Canvas height in pixels (grown if the margins need more).
    public var height: Int
    /// Integer scale of all text (1 draws the 5×7 font at its native size).
    public var textScale: Int

    /// A line plot of `series`.
    public init(
        title: String = "", xLabel: String = "", yLabel: String = "", series: [Series] = [], logX: Bool = false,
        logY: Bool = false, xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil,
        width: Int = 720, height: Int = 450, textScale: Int = 2
    ) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.logX = logX
        self.logY = logY
        self.xRange = xRange
        self.yRange = yRange
        self.width = width
        self.height = height
        self.textScale = textScale
    }

    /// A ROC plot: each curve's x is the false-positive rate and y the true-positive rate, both axes fixed to
    /// [−0.02, 1.02] (so curves along the edges stay visible), with the dashed gray diagonal of a chance classifier
    /// ("chance") drawn first.
    public static func roc(_ curves: [Series], title: String = "ROC") -> LinePlot {
        var colored = curves
        for index in colored.indices where colored[index].color == nil {
            colored[index].color = RGBColor.palette(index)
        }
        let chance = Series(name: "chance", x: [0, 1], y: [0, 1], color: .gray, style: .dashed, lineWidth: 1.5)
        return LinePlot(
            title: title, xLabel: "false positive rate", yLabel: "true positive rate", series: [chance] + colored,
            xRange: -0.02...1.02, yRange: -0.02...1.02, width: 560, height: 520)
    }

    /// The color series number `index` is drawn in.
    public func color(ofSeries index: Int) -> RGBColor {
        series[index].color ?? RGBColor.palette(index)
    }

    /// The layout and data-to-pixel mapping of this plot.
    func frame() -> PlotFrame {
        PlotFrame(
            width: width, height: height, textScale: textScale, title: title, xLabel: xLabel, yLabel: yLabel,
            xAxis: PlotAxis(fitting: series.flatMap(\.x), logarithmic: logX, fixed: xRange),
            yAxis: PlotAxis(fitting: series.flatMap(\.y), logarithmic: logY, fixed: yRange),
            legend: series.indices.filter { !series[$0].name.isEmpty }.map { index in
                let item = series[index]
                return (item.name, .line(color(ofSeries: index), dashed: item.style == .dashed, marker: item.markers))
            },
            legendOutside: false)
    }

    /// Draws the plot.
    public func render() -> Raster {
        let frame = frame()
        var raster = frame.canvasWithGrid()
        var occupied: [(x: Double, y: Double)] = []
        for (index, item) in series.enumerated() {
            let points: [(x: Double, y: Double)] = zip(item.x, item.y).map { x, y in
                guard let px = frame.pixelX(x), let py = frame.pixelY(y) else { return (.nan, .nan) }
                return (px, py)
            }
            let color = color(ofSeries: index)
            raster.strokePolyline(
                points, color, lineWidth: item.lineWidth, dash: item.style == .dashed ? (8, 5) : nil, clip: frame.plot)
            if item.markers {
                for point in points {
                    raster.fillCircle(
                        centerX: point.x, centerY: point.y, radius: item.lineWidth + 1.5, color, clip: frame.plot)
                }
            }
            occupied += Self.samples(along: points, spacing: 4)
        }
        frame.drawAxes(on: &raster)
        frame.drawLegend(on: &raster, occupied: occupied)
        return raster
    }

    /// The plot as PNG file bytes.
    public func pngData() throws -> [UInt8] {
        try render().pngData()
    }

    /// Draws the plot and writes it as a PNG file, atomically replacing `url`.
    public func write(to url: URL) throws {
        try render().write(to: url)
    }

    /// Points every `spacing` pixels along the drawn segments, for placing the legend where it hides least.
    private static func samples(along points: [(x: Double, y: Double)], spacing: Double) -> [(x: Double, y: Double)] {
        var result: [(x: Double, y: Double)] = []
        for (a, b) in zip(points, points.dropFirst()) where a.x.isFinite && b.x.isFinite {
            let length = ((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y)).squareRoot()
            let count = max(1, Int(length / spacing))
            for step in 0...count {
                let t = Double(step) / Double(count)
                result.append((a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t))
            }
        }
        return result
    }
}
