import Foundation

/// Two-dimensional points coloured by an integer class label, with a legend to the right of the plot; for
/// example a 2-D latent space coloured by digit class.
///
/// Label values are sorted and the k-th distinct label takes colour k of `RGBColor.palette`. Points are drawn in
/// the given order as anti-aliased, slightly transparent dots, so dense regions show as darker.
public struct ScatterPlot: Sendable {
    /// Title above the plot (may be empty).
    public var title: String
    /// Title of the x axis (may be empty).
    public var xLabel: String
    /// Title of the y axis (may be empty).
    public var yLabel: String
    /// Abscissae.
    public var x: [Double]
    /// Ordinates, as many as `x`.
    public var y: [Double]
    /// Class label of each point, as many as `x`.
    public var labels: [Int]
    /// Legend text per label; labels without an entry are shown as their number.
    public var classNames: [Int: String]
    /// Dot radius in pixels.
    public var pointRadius: Double
    /// Dot opacity in (0, 1].
    public var opacity: Double
    /// Canvas width in pixels (grown if the margins need more).
    public var width: Int
    /// Canvas height in pixels (grown if the margins need more).
    public var height: Int
    /// Integer scale of all text.
    public var textScale: Int

    /// A scatter plot of the points (x[i], y[i]) with class `labels[i]`; the three arrays must have equal length.
    public init(
        title: String = "", xLabel: String = "", yLabel: String = "", x: [Double], y: [Double], labels: [Int],
        classNames: [Int: String] = [:], pointRadius: Double = 3, opacity: Double = 0.8,
        width: Int = 720, height: Int = 560, textScale: Int = 2
    ) {
        precondition(x.count == y.count && x.count == labels.count,
                     "scatter plot needs as many y values and labels as x values "
                        + "(\(x.count), \(y.count), \(labels.count))")
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.x = x
        self.y = y
        self.labels = labels
        self.classNames = classNames
        self.pointRadius = pointRadius
        self.opacity = opacity
        self.width = width
        self.height = height
        self.textScale = textScale
    }

    /// The distinct labels in ascending order, each with its colour.
    public var classColors: [(label: Int, color: RGBColor)] {
        Set(labels).sorted().enumerated().map { ($0.element, RGBColor.palette($0.offset)) }
    }

    /// The layout and data-to-pixel mapping of this plot.
    func frame() -> PlotFrame {
        PlotFrame(
            width: width, height: height, textScale: textScale, title: title, xLabel: xLabel, yLabel: yLabel,
            xAxis: PlotAxis(fitting: x, logarithmic: false), yAxis: PlotAxis(fitting: y, logarithmic: false),
            legend: classColors.map { (classNames[$0.label] ?? String($0.label), .dot($0.color)) },
            legendOutside: true)
    }

    /// Draws the plot.
    public func render() -> Raster {
        let colorOf = Dictionary(uniqueKeysWithValues: classColors.map { ($0.label, $0.color) })
        let frame = frame()
        var raster = frame.canvasWithGrid()
        for index in x.indices {
            guard let px = frame.pixelX(x[index]), let py = frame.pixelY(y[index]) else { continue }
            raster.fillCircle(
                centerX: px, centerY: py, radius: pointRadius, colorOf[labels[index]]!, opacity: opacity,
                clip: frame.plot)
        }
        frame.drawAxes(on: &raster)
        frame.drawLegend(on: &raster, occupied: [])
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
}
