/// What a legend row shows beside its name.
enum LegendSwatch {
    /// A short stroke, dashed or not, with a dot in the middle when the series has markers.
    case line(RGBColor, dashed: Bool, marker: Bool)
    /// A single dot, as in a scatter plot.
    case dot(RGBColor)
}

/// The furniture shared by line and scatter plots: margins, the mapping from data to pixels, grid lines, the axis
/// box with ticks and tick labels, the title, axis titles and the legend.
///
/// Data value v on an axis with fraction f(v) ∈ [0, 1] lands on pixel-centre coordinate
/// `plot.x + ½ + f · (plot.width − 1)` horizontally and `plot.y + plot.height − ½ − f · (plot.height − 1)`
/// vertically.
struct PlotFrame {
    /// Canvas width, at least the requested width and large enough for the margins.
    let width: Int
    /// Canvas height, likewise.
    let height: Int
    /// The data area, inside the axis box line.
    let plot: PixelRect

    private let textScale: Int
    private let title: String
    private let xLabel: String
    private let yLabel: String
    private let xAxis: PlotAxis
    private let yAxis: PlotAxis
    private let legend: [(name: String, swatch: LegendSwatch)]
    private let legendOutside: Bool

    private static let padding = 12
    private static let tickLength = 5
    private static let legendGap = 12

    init(
        width: Int, height: Int, textScale: Int, title: String, xLabel: String, yLabel: String,
        xAxis: PlotAxis, yAxis: PlotAxis, legend: [(name: String, swatch: LegendSwatch)], legendOutside: Bool
    ) {
        let scale = max(1, textScale)
        let line = BitmapFont.lineHeight * scale
        let yTickWidth = yAxis.ticks.map { BitmapFont.size(of: $0.label, scale: scale).width }.max() ?? 0
        let lastXTickWidth = xAxis.ticks.last.map { BitmapFont.size(of: $0.label, scale: scale).width } ?? 0
        let legendWidth =
            legendOutside && !legend.isEmpty ? Self.legendGap + Self.legendSize(legend, scale: scale).width : 0

        let left = Self.padding + (yLabel.isEmpty ? 0 : line + 8) + yTickWidth + 4 + Self.tickLength
        let top = Self.padding + (title.isEmpty ? 0 : line + 8) + line / 2
        let bottom = Self.tickLength + 4 + line + (xLabel.isEmpty ? 0 : 8 + line) + Self.padding
        let right = Self.padding + lastXTickWidth / 2 + legendWidth
        let minimumPlot = 40
        self.width = max(width, left + right + minimumPlot)
        self.height = max(height, top + bottom + minimumPlot)
        plot = PixelRect(x: left, y: top, width: self.width - left - right, height: self.height - top - bottom)
        self.textScale = scale
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xAxis = xAxis
        self.yAxis = yAxis
        self.legend = legend
        self.legendOutside = legendOutside
    }

    /// Horizontal pixel coordinate of data value `x`, nil when it cannot be placed on the axis.
    func pixelX(_ x: Double) -> Double? {
        xAxis.fraction(x).map { Double(plot.x) + 0.5 + $0 * Double(plot.width - 1) }
    }

    /// Vertical pixel coordinate of data value `y`, nil when it cannot be placed on the axis.
    func pixelY(_ y: Double) -> Double? {
        yAxis.fraction(y).map { Double(plot.y + plot.height) - 0.5 - $0 * Double(plot.height - 1) }
    }

    /// A white canvas of the frame's size with light grid lines at the ticks.
    func canvasWithGrid() -> Raster {
        var raster = Raster(width: width, height: height, background: .white)
        for tick in xAxis.ticks {
            guard let x = pixelX(tick.value) else { continue }
            raster.fillRect(PixelRect(x: Int(x), y: plot.y, width: 1, height: plot.height), .lightGray)
        }
        for tick in yAxis.ticks {
            guard let y = pixelY(tick.value) else { continue }
            raster.fillRect(PixelRect(x: plot.x, y: Int(y), width: plot.width, height: 1), .lightGray)
        }
        return raster
    }

    /// Draws the axis box, ticks, tick labels, title and axis titles over the data.
    func drawAxes(on raster: inout Raster) {
        let scale = textScale
        let line = BitmapFont.lineHeight * scale
        let capOffset = BitmapFont.glyphHeight * scale / 2
        let box = PixelRect(x: plot.x - 1, y: plot.y - 1, width: plot.width + 2, height: plot.height + 2)
        raster.strokeRect(box, .black)

        let xPlaced = xAxis.ticks.compactMap { tick in pixelX(tick.value).map { (Int($0), tick.label) } }
        let xWidest = xPlaced.map { BitmapFont.size(of: $0.1, scale: scale).width }.max() ?? 0
        let xEvery = Self.labelStride(positions: xPlaced.map(\.0), room: xWidest + 2 * BitmapFont.advance * scale)
        for (index, (x, label)) in xPlaced.enumerated() {
            raster.fillRect(PixelRect(x: x, y: plot.y + plot.height + 1, width: 1, height: Self.tickLength), .black)
            guard index % xEvery == 0 else { continue }
            let labelWidth = BitmapFont.size(of: label, scale: scale).width
            raster.drawText(
                label, x: x - labelWidth / 2, y: plot.y + plot.height + Self.tickLength + 4, scale: scale, .black)
        }

        let yPlaced = yAxis.ticks.compactMap { tick in pixelY(tick.value).map { (Int($0), tick.label) } }
        let yEvery = Self.labelStride(positions: yPlaced.map(\.0), room: line + 4)
        for (index, (y, label)) in yPlaced.enumerated() {
            raster.fillRect(PixelRect(x: plot.x - 1 - Self.tickLength, y: y, width: Self.tickLength, height: 1), .black)
            guard index % yEvery == 0 else { continue }
            let labelWidth = BitmapFont.size(of: label, scale: scale).width
            raster.drawText(label, x: plot.x - Self.tickLength - 4 - labelWidth, y: y - capOffset, scale: scale, .black)
        }

        if !title.isEmpty {
            let titleWidth = BitmapFont.size(of: title, scale: scale).width
            raster.drawText(title, x: plot.x + (plot.width - titleWidth) / 2, y: Self.padding, scale: scale, .black)
        }
        if !xLabel.isEmpty {
            let labelWidth = BitmapFont.size(of: xLabel, scale: scale).width
            let left = plot.x + (plot.width - labelWidth) / 2
            raster.drawText(xLabel, x: left, y: height - Self.padding - line, scale: scale, .black)
        }
        if !yLabel.isEmpty {
            let labelLength = BitmapFont.size(of: yLabel, scale: scale).width
            raster.drawText(
                yLabel, x: Self.padding, y: plot.y + (plot.height - labelLength) / 2, scale: scale, .black,
                vertical: true)
        }
    }

    /// Where the legend goes: to the right of the plot when the frame was made with `legendOutside`, otherwise in
    /// the inside corner (top right, top left, bottom right, bottom left, first best) covering the fewest
    /// `occupied` pixel positions; nil without legend entries.
    func legendBox(occupied: [(x: Double, y: Double)]) -> PixelRect? {
        guard !legend.isEmpty else { return nil }
        let size = Self.legendSize(legend, scale: textScale)
        if legendOutside {
            return PixelRect(x: plot.x + plot.width + Self.legendGap, y: plot.y, width: size.width, height: size.height)
        }
        let inset = 8
        let leftX = plot.x + inset, rightX = plot.x + plot.width - inset - size.width
        let topY = plot.y + inset, bottomY = plot.y + plot.height - inset - size.height
        let corners = [(rightX, topY), (leftX, topY), (rightX, bottomY), (leftX, bottomY)].map {
            PixelRect(x: $0.0, y: $0.1, width: size.width, height: size.height)
        }
        let counts = corners.map { corner in
            occupied.reduce(0) { $0 + (corner.contains(x: Int($1.x), y: Int($1.y)) ? 1 : 0) }
        }
        return corners[counts.firstIndex(of: counts.min()!)!]
    }

    /// Draws the legend in `legendBox(occupied:)`: per entry a swatch and the name.
    func drawLegend(on raster: inout Raster, occupied: [(x: Double, y: Double)]) {
        guard let box = legendBox(occupied: occupied) else { return }
        let scale = textScale
        raster.fillRect(box, .white)
        raster.strokeRect(box, .gray)
        let rowHeight = BitmapFont.lineHeight * scale + 4
        for (row, entry) in legend.enumerated() {
            let top = box.y + 6 + row * rowHeight
            let middle = Double(top) + Double(BitmapFont.glyphHeight * scale) / 2
            let swatchLeft = Double(box.x + 8), swatchRight = Double(box.x + 8 + Self.swatchWidth)
            switch entry.swatch {
            case .line(let color, let dashed, let marker):
                raster.strokePolyline(
                    [(swatchLeft, middle), (swatchRight, middle)], color, lineWidth: 2, dash: dashed ? (6, 4) : nil)
                if marker {
                    raster.fillCircle(centerX: (swatchLeft + swatchRight) / 2, centerY: middle, radius: 3.5, color)
                }
            case .dot(let color):
                raster.fillCircle(centerX: (swatchLeft + swatchRight) / 2, centerY: middle, radius: 4, color)
            }
            raster.drawText(entry.name, x: box.x + 8 + Self.swatchWidth + 8, y: top, scale: scale, .black)
        }
    }

    private static let swatchWidth = 24

    private static func legendSize(
        _ legend: [(name: String, swatch: LegendSwatch)], scale: Int
    ) -> (width: Int, height: Int) {
        let widest = legend.map { BitmapFont.size(of: $0.name, scale: scale).width }.max() ?? 0
        let rowHeight = BitmapFont.lineHeight * scale + 4
        return (8 + swatchWidth + 8 + widest + 10, 6 + legend.count * rowHeight + 2)
    }

    /// Label every n-th tick, the smallest n that leaves at least `room` pixels between labelled ticks.
    private static func labelStride(positions: [Int], room: Int) -> Int {
        guard positions.count > 1 else { return 1 }
        let spacing = abs(positions[1] - positions[0])
        guard spacing > 0 else { return positions.count }
        return max(1, (room + spacing - 1) / spacing)
    }
}
