import Foundation

/// Tiles a batch of small images into one picture: inputs over reconstructions, prior samples, interpolation
/// strips, latent traversals.
///
/// The batch is N images of C × H × W values in [0, 1] (C = 1 gray or 3 RGB, planar, image after image). Image i
/// goes to row ⌊i / columns⌋, column i mod columns; each value v becomes the byte round(255 · clamp(v, 0, 1))
/// (NaN as 0) and each pixel a `scale` × `scale` block. Tiles are separated and surrounded by `padding` pixels of
/// `background`; optional row labels sit left of their rows, column labels above their columns, a title on top.
public struct ImageGrid: Sendable {
    /// Images per row (at least 1); a batch smaller than this uses only as many columns as it has images.
    public var columns: Int
    /// Each image pixel becomes a `scale` × `scale` block (at least 1).
    public var scale: Int
    /// Pixels between tiles and around the grid.
    public var padding: Int
    /// Colour of the padding and of the label areas.
    public var background: RGBColor
    /// Text left of each row (for example "input", "recon", "z3"); extra labels beyond the rows are ignored.
    public var rowLabels: [String]
    /// Text above each column (for example "−3σ" … "+3σ"), drawn at text scale 1 when a label is about as wide as
    /// a tile.
    public var columnLabels: [String]
    /// Text above the grid (may be empty).
    public var title: String
    /// Integer scale of all text.
    public var textScale: Int
    /// Colour of all text.
    public var textColor: RGBColor

    /// A grid with `columns` images per row.
    public init(
        columns: Int, scale: Int = 1, padding: Int = 2, background: RGBColor = .white, rowLabels: [String] = [],
        columnLabels: [String] = [], title: String = "", textScale: Int = 2, textColor: RGBColor = .black
    ) {
        self.columns = columns
        self.scale = scale
        self.padding = padding
        self.background = background
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.title = title
        self.textScale = textScale
        self.textColor = textColor
    }

    /// Where everything goes for a given batch.
    public struct Layout: Equatable, Sendable {
        /// Canvas width in pixels.
        public let width: Int
        /// Canvas height in pixels.
        public let height: Int
        /// Images per row actually used.
        public let columns: Int
        /// Number of rows.
        public let rows: Int
        /// Width of one tile (image width × scale).
        public let tileWidth: Int
        /// Height of one tile (image height × scale).
        public let tileHeight: Int
        /// Left edge of the first column (after the row-label area and padding).
        public let gridX: Int
        /// Top edge of the first row (after the title, column labels and padding).
        public let gridY: Int
        /// Pixels between tiles.
        public let padding: Int

        /// The rectangle of image `index`.
        public func tile(_ index: Int) -> PixelRect {
            PixelRect(
                x: gridX + (index % columns) * (tileWidth + padding),
                y: gridY + (index / columns) * (tileHeight + padding),
                width: tileWidth, height: tileHeight)
        }
    }

    /// The layout for `count` images of `height` × `width` pixels.
    public func layout(count: Int, height: Int, width: Int) -> Layout {
        let scale = max(1, self.scale), padding = max(0, self.padding), text = max(1, textScale)
        let columns = max(1, min(self.columns, max(count, 1)))
        let rows = (count + columns - 1) / columns
        let tileWidth = width * scale, tileHeight = height * scale
        let line = BitmapFont.lineHeight * text
        let labelled = rowLabels.prefix(rows)
        let labelWidth = labelled.map { BitmapFont.size(of: $0, scale: text).width }.max() ?? 0
        let labelArea = labelWidth > 0 ? labelWidth + 2 * BitmapFont.advance * text / 2 : 0
        let titleArea = title.isEmpty ? 0 : line + 4
        let columnLabelArea =
            columnLabels.isEmpty ? 0 : BitmapFont.lineHeight * columnLabelScale(tileWidth: tileWidth) + 2
        let gridX = labelArea + padding
        let gridY = titleArea + columnLabelArea + padding
        let gridWidth = columns * tileWidth + (columns + 1) * padding
        return Layout(
            width: max(1, labelArea + gridWidth, BitmapFont.size(of: title, scale: text).width + 2 * padding),
            height: max(1, gridY + rows * (tileHeight + padding)),
            columns: columns, rows: rows, tileWidth: tileWidth, tileHeight: tileHeight,
            gridX: gridX, gridY: gridY, padding: padding)
    }

    /// Draws `count` images of `channels` × `height` × `width` values from `values` (exactly
    /// `count · channels · height · width` of them, image after image, each channel a plane).
    public func render(_ values: [Float], count: Int, channels: Int, height: Int, width: Int) -> Raster {
        precondition(channels == 1 || channels == 3, "ImageGrid takes 1 or 3 channels, got \(channels)")
        precondition(count >= 0 && height > 0 && width > 0, "ImageGrid needs positive image sizes")
        precondition(values.count == count * channels * height * width,
                     "ImageGrid: \(values.count) values for \(count) images of \(channels)×\(height)×\(width)")
        let layout = layout(count: count, height: height, width: width)
        let scale = layout.tileWidth / width, text = max(1, textScale)
        var raster = Raster(width: layout.width, height: layout.height, background: background)
        let plane = height * width
        for image in 0..<count {
            let tile = layout.tile(image)
            let base = image * channels * plane
            for y in 0..<height {
                for x in 0..<width {
                    let offset = base + y * width + x
                    let color = channels == 1
                        ? RGBColor(gray: Self.byte(values[offset]))
                        : RGBColor(
                            red: Self.byte(values[offset]), green: Self.byte(values[offset + plane]),
                            blue: Self.byte(values[offset + 2 * plane]))
                    let block = PixelRect(x: tile.x + x * scale, y: tile.y + y * scale, width: scale, height: scale)
                    raster.fillRect(block, color)
                }
            }
        }

        let capHeight = BitmapFont.glyphHeight * text
        for (row, label) in rowLabels.prefix(layout.rows).enumerated() {
            let top = layout.tile(row * layout.columns).y
            raster.drawText(
                label, x: BitmapFont.advance * text / 2, y: top + (layout.tileHeight - capHeight) / 2, scale: text,
                textColor)
        }
        let columnScale = columnLabelScale(tileWidth: layout.tileWidth)
        for (column, label) in columnLabels.prefix(layout.columns).enumerated() {
            let tile = layout.tile(column)
            let labelWidth = BitmapFont.size(of: label, scale: columnScale).width
            raster.drawText(
                label, x: tile.x + (tile.width - labelWidth) / 2,
                y: tile.y - layout.padding - BitmapFont.lineHeight * columnScale, scale: columnScale, textColor)
        }
        if !title.isEmpty {
            raster.drawText(title, x: layout.padding, y: 2, scale: text, textColor)
        }
        return raster
    }

    /// `textScale`, or 1 when the widest column label at that scale would come within `textScale` pixels of the
    /// tile width.
    private func columnLabelScale(tileWidth: Int) -> Int {
        let text = max(1, textScale)
        let widest = columnLabels.map { BitmapFont.size(of: $0, scale: text).width }.max() ?? 0
        return widest + text <= tileWidth ? text : 1
    }

    /// round(255 · clamp(v, 0, 1)), with NaN as 0.
    static func byte(_ value: Float) -> UInt8 {
        guard value > 0 else { return 0 }
        return UInt8((min(value, 1) * 255).rounded())
    }
}
