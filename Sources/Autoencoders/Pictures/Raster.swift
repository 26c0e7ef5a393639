import Foundation

/// An integer rectangle of pixels: columns `x ..< x + width`, rows `y ..< y + height`.
public struct PixelRect: Equatable, Sendable {
    /// Left column.
    public var x: Int
    /// Top row.
    public var y: Int
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int

    /// A rectangle from its top-left corner and size.
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// The overlap of two rectangles (possibly empty, with zero width or height).
    public func intersection(_ other: PixelRect) -> PixelRect {
        let left = max(x, other.x), top = max(y, other.y)
        let right = min(x + width, other.x + other.width), bottom = min(y + height, other.y + other.height)
        return PixelRect(x: left, y: top, width: max(0, right - left), height: max(0, bottom - top))
    }

    /// Whether the pixel at column `px`, row `py` lies inside.
    public func contains(x px: Int, y py: Int) -> Bool {
        px >= x && px < x + width && py >= y && py < y + height
    }
}

/// An RGB drawing canvas with (0, 0) at the top-left corner.
///
/// Pixel (i, j) covers the unit square [i, i+1) × [j, j+1); shapes taking `Double` coordinates are anti-aliased by
/// pixel coverage, estimated from the distance d between the pixel centre (i + ½, j + ½) and the shape's outline:
/// coverage = clamp(½ + r − d, 0, 1) for a shape of half-width (or radius) r, and the pixel becomes
/// `old · (1 − coverage) + colour · coverage`. Everything is clipped to the canvas.
public struct Raster: Sendable, CustomStringConvertible {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// `width · height · 3` bytes, row-major, RGB interleaved.
    public private(set) var pixels: [UInt8]

    /// A `width` × `height` canvas filled with `background`.
    public init(width: Int, height: Int, background: RGBColor = .white) {
        precondition(width > 0 && height > 0, "Raster needs a positive size, got \(width)×\(height)")
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        fill(background)
    }

    /// "Raster W×H" (the pixels are left out).
    public var description: String { "Raster \(width)×\(height)" }

    /// The whole canvas as a rectangle.
    public var bounds: PixelRect { PixelRect(x: 0, y: 0, width: width, height: height) }

    /// The colour of the pixel at column `x`, row `y` (which must be inside the canvas).
    public subscript(x: Int, y: Int) -> RGBColor {
        get {
            precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) outside \(width)×\(height)")
            let i = (y * width + x) * 3
            return RGBColor(red: pixels[i], green: pixels[i + 1], blue: pixels[i + 2])
        }
        set {
            precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) outside \(width)×\(height)")
            let i = (y * width + x) * 3
            pixels[i] = newValue.red
            pixels[i + 1] = newValue.green
            pixels[i + 2] = newValue.blue
        }
    }

    /// Paints every pixel `color`.
    public mutating func fill(_ color: RGBColor) {
        fillRect(bounds, color)
    }

    /// Paints the pixels of `rect` (clipped to the canvas) `color`.
    public mutating func fillRect(_ rect: PixelRect, _ color: RGBColor) {
        let clipped = rect.intersection(bounds)
        guard clipped.width > 0, clipped.height > 0 else { return }
        let width = self.width
        pixels.withUnsafeMutableBufferPointer { buffer in
            for y in clipped.y..<clipped.y + clipped.height {
                var i = (y * width + clipped.x) * 3
                for _ in 0..<clipped.width {
                    buffer[i] = color.red
                    buffer[i + 1] = color.green
                    buffer[i + 2] = color.blue
                    i += 3
                }
            }
        }
    }

    /// Paints the `lineWidth`-pixel border just inside `rect`.
    public mutating func strokeRect(_ rect: PixelRect, _ color: RGBColor, lineWidth: Int = 1) {
        let w = min(lineWidth, rect.width, rect.height)
        guard w > 0 else { return }
        fillRect(PixelRect(x: rect.x, y: rect.y, width: rect.width, height: w), color)
        fillRect(PixelRect(x: rect.x, y: rect.y + rect.height - w, width: rect.width, height: w), color)
        fillRect(PixelRect(x: rect.x, y: rect.y, width: w, height: rect.height), color)
        fillRect(PixelRect(x: rect.x + rect.width - w, y: rect.y, width: w, height: rect.height), color)
    }

    /// Mixes `color` into the pixel at (`x`, `y`) with weight `alpha` ∈ [0, 1]; pixels outside are ignored.
    public mutating func blend(x: Int, y: Int, _ color: RGBColor, alpha: Double) {
        guard x >= 0, x < width, y >= 0, y < height, alpha > 0 else { return }
        let a = min(alpha, 1)
        let i = (y * width + x) * 3
        pixels[i] = Self.mix(pixels[i], color.red, a)
        pixels[i + 1] = Self.mix(pixels[i + 1], color.green, a)
        pixels[i + 2] = Self.mix(pixels[i + 2], color.blue, a)
    }

    /// Draws an anti-aliased segment of `lineWidth` pixels with round caps from (x0, y0) to (x1, y1).
    public mutating func drawLine(
        x0: Double, y0: Double, x1: Double, y1: Double, _ color: RGBColor, lineWidth: Double = 1, clip: PixelRect? = nil
    ) {
        strokePolyline([(x0, y0), (x1, y1)], color, lineWidth: lineWidth, clip: clip)
    }

    /// Draws the connected segments through `points` as one anti-aliased stroke `lineWidth` pixels wide (joints
    /// are not blended twice). With `dash = (on, off)` only alternate lengths of `on` and `off` pixels along the
    /// path are drawn. Non-finite points break the path. Pixels outside `clip` (when given) are left alone.
    public mutating func strokePolyline(
        _ points: [(x: Double, y: Double)], _ color: RGBColor, lineWidth: Double = 1,
        dash: (on: Double, off: Double)? = nil, clip: PixelRect? = nil
    ) {
        let area = (clip ?? bounds).intersection(bounds)
        guard area.width > 0, area.height > 0 else { return }
        var coverage = CoverageMask(area: area)
        let halfWidth = max(lineWidth, 0.5) / 2
        var dashState = DashState(pattern: dash)
        var previous: (x: Double, y: Double)?
        for point in points {
            guard point.x.isFinite, point.y.isFinite else {
                previous = nil
                continue
            }
            if let start = previous {
                for piece in dashState.visiblePieces(from: start, to: point) {
                    coverage.addSegment(from: piece.from, to: piece.to, halfWidth: halfWidth)
                }
            } else if points.count == 1 {
                coverage.addSegment(from: point, to: point, halfWidth: halfWidth)
            }
            previous = point
        }
        coverage.apply(color, to: &self)
    }

    /// Fills an anti-aliased disc of `radius` pixels centred at (`centerX`, `centerY`), mixing `color` in with
    /// weight `opacity` · coverage.
    public mutating func fillCircle(
        centerX: Double, centerY: Double, radius: Double, _ color: RGBColor, opacity: Double = 1, clip: PixelRect? = nil
    ) {
        let area = (clip ?? bounds).intersection(bounds)
        guard centerX.isFinite, centerY.isFinite, radius > 0 else { return }
        let top = max(area.y, Int((centerY - radius - 1).rounded(.down)))
        let bottom = min(area.y + area.height - 1, Int((centerY + radius + 1).rounded(.up)))
        let left = max(area.x, Int((centerX - radius - 1).rounded(.down)))
        let right = min(area.x + area.width - 1, Int((centerX + radius + 1).rounded(.up)))
        guard top <= bottom, left <= right else { return }
        for y in top...bottom {
            let dy = Double(y) + 0.5 - centerY
            for x in left...right {
                let dx = Double(x) + 0.5 - centerX
                let cover = min(1, max(0, radius + 0.5 - (dx * dx + dy * dy).squareRoot()))
                blend(x: x, y: y, color, alpha: cover * opacity)
            }
        }
    }

    /// Draws `text` in the built-in 5×7 `BitmapFont`, each font pixel a `scale`×`scale` block, with the top-left
    /// corner of its box (`BitmapFont.size(of:scale:)`) at (`x`, `y`). `vertical` text is turned 90°
    /// counter-clockwise and reads bottom to top; its box is then `height × width` of the horizontal one.
    public mutating func drawText(
        _ text: String, x: Int, y: Int, scale: Int = 1, _ color: RGBColor, vertical: Bool = false
    ) {
        let scale = max(scale, 1)
        let length = BitmapFont.size(of: text, scale: scale).width
        for (position, character) in text.enumerated() {
            let glyph = BitmapFont.glyph(character)
            for (row, mask) in glyph.rows.enumerated() where mask != 0 {
                for column in 0..<BitmapFont.glyphWidth where mask & (0x10 >> UInt8(column)) != 0 {
                    let u = (position * BitmapFont.advance + column) * scale
                    let v = (row + glyph.drop) * scale
                    let block = vertical
                        ? PixelRect(x: x + v, y: y + length - u - scale, width: scale, height: scale)
                        : PixelRect(x: x + u, y: y + v, width: scale, height: scale)
                    fillRect(block, color)
                }
            }
        }
    }

    /// The canvas as an 8-bit RGB image.
    public var image: PixelImage {
        PixelImage(width: width, height: height, format: .rgb8, bytes: pixels)
    }

    /// The canvas as PNG file bytes.
    public func pngData(encoder: PNGEncoder = PNGEncoder()) throws -> [UInt8] {
        try encoder.encode(image)
    }

    /// Writes the canvas as a PNG file, atomically replacing `url`.
    public func write(to url: URL, encoder: PNGEncoder = PNGEncoder()) throws {
        try encoder.write(image, to: url)
    }

    @inline(__always) static func mix(_ old: UInt8, _ new: UInt8, _ alpha: Double) -> UInt8 {
        UInt8((Double(old) + (Double(new) - Double(old)) * alpha).rounded())
    }
}

/// Per-pixel stroke coverage over a rectangle, combined by maximum so overlapping segments of one stroke are
/// painted once.
private struct CoverageMask {
    let area: PixelRect
    var values: [Float]
    var touched: PixelRect?

    init(area: PixelRect) {
        self.area = area
        values = [Float](repeating: 0, count: area.width * area.height)
    }

    /// Raises the coverage of the capsule of half-width `halfWidth` around the segment `a`–`b`. Row by row, only
    /// the span of pixels within `halfWidth + 1` of the segment's line is visited.
    mutating func addSegment(from a: (x: Double, y: Double), to b: (x: Double, y: Double), halfWidth: Double) {
        let reach = halfWidth + 1
        let dx = b.x - a.x, dy = b.y - a.y
        let lengthSquared = dx * dx + dy * dy
        let length = lengthSquared.squareRoot()
        let top = max(area.y, Int((min(a.y, b.y) - reach).rounded(.down)))
        let bottom = min(area.y + area.height - 1, Int((max(a.y, b.y) + reach).rounded(.up)))
        guard top <= bottom else { return }
        for py in top...bottom {
            let cy = Double(py) + 0.5
            var low = min(a.x, b.x) - reach, high = max(a.x, b.x) + reach
            if abs(dy) > 1e-9 * max(1, length) {
                // |(cx − a.x)·dy − (cy − a.y)·dx| / length ≤ reach, solved for the pixel centre cx.
                let u = a.x + ((cy - a.y) * dx - reach * length) / dy
                let v = a.x + ((cy - a.y) * dx + reach * length) / dy
                low = max(low, min(u, v))
                high = min(high, max(u, v))
            }
            let left = max(area.x, Int((low - 0.5).rounded(.down)))
            let right = min(area.x + area.width - 1, Int((high - 0.5).rounded(.up)))
            guard left <= right else { continue }
            let rowStart = (py - area.y) * area.width - area.x
            for px in left...right {
                let cx = Double(px) + 0.5
                var t = lengthSquared > 0 ? ((cx - a.x) * dx + (cy - a.y) * dy) / lengthSquared : 0
                t = min(1, max(0, t))
                let ex = cx - (a.x + t * dx), ey = cy - (a.y + t * dy)
                let cover = Float(min(1, max(0, halfWidth + 0.5 - (ex * ex + ey * ey).squareRoot())))
                if cover > values[rowStart + px] { values[rowStart + px] = cover }
            }
            let span = PixelRect(x: left, y: py, width: right - left + 1, height: 1)
            touched = touched.map { $0.union(span) } ?? span
        }
    }

    /// Blends `color` into `raster` with the recorded coverage.
    func apply(_ color: RGBColor, to raster: inout Raster) {
        guard let touched else { return }
        for y in touched.y..<touched.y + touched.height {
            let rowStart = (y - area.y) * area.width - area.x
            for x in touched.x..<touched.x + touched.width where values[rowStart + x] > 0 {
                raster.blend(x: x, y: y, color, alpha: Double(values[rowStart + x]))
            }
        }
    }
}

/// Walks a dash pattern along consecutive segments, carrying the phase from one segment to the next.
private struct DashState {
    let pattern: (on: Double, off: Double)?
    /// Distance already travelled within the current on+off period.
    var phase: Double = 0

    init(pattern: (on: Double, off: Double)?) {
        if let pattern, pattern.on > 0, pattern.off > 0 { self.pattern = pattern } else { self.pattern = nil }
    }

    /// The drawn parts of the segment `a`–`b`.
    mutating func visiblePieces(
        from a: (x: Double, y: Double), to b: (x: Double, y: Double)
    ) -> [(from: (x: Double, y: Double), to: (x: Double, y: Double))] {
        guard let pattern else { return [(a, b)] }
        let length = ((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y)).squareRoot()
        guard length > 0 else { return [] }
        let period = pattern.on + pattern.off
        func point(_ s: Double) -> (x: Double, y: Double) {
            (a.x + (b.x - a.x) * s / length, a.y + (b.y - a.y) * s / length)
        }
        var pieces: [(from: (x: Double, y: Double), to: (x: Double, y: Double))] = []
        var travelled = 0.0
        while travelled < length {
            let drawing = phase < pattern.on
            let step = min(length - travelled, (drawing ? pattern.on : period) - phase)
            if drawing { pieces.append((point(travelled), point(travelled + step))) }
            travelled += step
            phase += step
            if phase >= period - 1e-12 { phase = 0 }
        }
        return pieces
    }
}

extension PixelRect {
    /// The smallest rectangle containing both.
    fileprivate func union(_ other: PixelRect) -> PixelRect {
        let left = min(x, other.x), top = min(y, other.y)
        let right = max(x + width, other.x + other.width), bottom = max(y + height, other.y + other.height)
        return PixelRect(x: left, y: top, width: right - left, height: bottom - top)
    }
}
