import Foundation
import Testing
@testable import Autoencoders

/// Deterministic bytes for test images (64-bit LCG, top byte).
private func testBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return UInt8(state >> 56)
    }
}

/// Bytes of a smooth pattern, which the encoder stores with Sub or Up filters.
private func gradientBytes(width: Int, height: Int, channels: Int) -> [UInt8] {
    var bytes: [UInt8] = []
    for y in 0..<height {
        for x in 0..<width {
            for c in 0..<channels {
                let level: Int = (x * 3 + y * 5 + c * 40) & 0xFF
                bytes.append(UInt8(level))
            }
        }
    }
    return bytes
}

private func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("pictures-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

private func isDark(_ color: RGBColor) -> Bool {
    Int(color.red) + Int(color.green) + Int(color.blue) < 3 * 100
}

/// Pixels of `raster` inside `rect` equal to `color`.
private func count(_ color: RGBColor, in raster: Raster, _ rect: PixelRect? = nil) -> Int {
    let area = (rect ?? raster.bounds).intersection(raster.bounds)
    var total = 0
    for y in area.y..<area.y + area.height {
        for x in area.x..<area.x + area.width where raster[x, y] == color { total += 1 }
    }
    return total
}

/// Whether `color` appears within `radius` pixels of (x, y).
private func has(_ color: RGBColor, near x: Double, _ y: Double, in raster: Raster, radius: Int = 1) -> Bool {
    let square = PixelRect(x: Int(x) - radius, y: Int(y) - radius, width: 2 * radius + 1, height: 2 * radius + 1)
    return count(color, in: raster, square) > 0
}

@Suite("PNG encoding")
struct PNGEncoderTests {
    @Test(arguments: [(1, 1), (7, 3), (13, 11), (64, 5), (3, 40)])
    func grayRoundTripIsExact(width: Int, height: Int) throws {
        for pixels in [testBytes(width * height, seed: UInt64(width * 100 + height)),
                       gradientBytes(width: width, height: height, channels: 1)] {
            let png = try PNGEncoder().encode(PixelImage(width: width, height: height, format: .gray8, bytes: pixels))
            let decoded = try PNGTestDecoder.decode(png)
            #expect(decoded.width == width && decoded.height == height && decoded.channels == 1)
            #expect(decoded.pixels == pixels)
        }
    }

    @Test(arguments: [(1, 1), (5, 9), (31, 17), (2, 50)])
    func rgbRoundTripIsExact(width: Int, height: Int) throws {
        for level in [0, 9] {
            for pixels in [testBytes(width * height * 3, seed: UInt64(width * 7 + height)),
                           gradientBytes(width: width, height: height, channels: 3)] {
                let image = PixelImage(width: width, height: height, format: .rgb8, bytes: pixels)
                let decoded = try PNGTestDecoder.decode(PNGEncoder(compressionLevel: level).encode(image))
                #expect(decoded.width == width && decoded.height == height && decoded.channels == 3)
                #expect(decoded.pixels == pixels)
            }
        }
    }

    @Test func smoothImagesUseSubAndUpFilters() throws {
        // Rows 0…: the first row is a horizontal ramp (Sub wins), later rows repeat the row above (Up wins).
        let width = 40, height = 6
        let pixels = (0..<height).flatMap { _ in (0..<width).map { UInt8($0 * 6) } }
        let image = PixelImage(width: width, height: height, format: .gray8, bytes: pixels)
        let decoded = try PNGTestDecoder.decode(PNGEncoder().encode(image))
        #expect(decoded.filters[0] == 1)
        #expect(decoded.filters.dropFirst().allSatisfy { $0 == 2 })
        #expect(decoded.pixels == pixels)
    }

    @Test func largeImagesSplitIntoSeveralIDATChunksAndStillDecode() throws {
        let width = 700, height = 600  // 1.26 MB of noise: the zlib stream exceeds one 1 MiB IDAT piece
        let pixels = testBytes(width * height * 3, seed: 42)
        let image = PixelImage(width: width, height: height, format: .rgb8, bytes: pixels)
        let png = try PNGEncoder(compressionLevel: 1).encode(image)
        let idat: [UInt8] = Array("IDAT".utf8)
        let idatCount = (0..<png.count - 3).filter { Array(png[$0..<$0 + 4]) == idat }.count
        #expect(idatCount >= 2)
        let same = try PNGTestDecoder.decode(png).pixels == pixels  // compared outside #expect: 1.26 MB to print
        #expect(same)
    }

    @Test func decoderRejectsCorruptedFiles() throws {
        let image = PixelImage(width: 4, height: 4, format: .gray8, bytes: testBytes(16, seed: 1))
        var png = try PNGEncoder().encode(image)
        png[png.count - 20] ^= 0x01  // inside the IDAT data
        #expect(throws: PNGTestDecoder.Failure.self) { try PNGTestDecoder.decode(png) }
    }

    @Test func writeReplacesTheFileAtomicallyAndLeavesNoTemporaryFiles() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("picture.png")
        let first = PixelImage(width: 3, height: 2, format: .rgb8, bytes: testBytes(18, seed: 5))
        let second = PixelImage(width: 5, height: 5, format: .gray8, bytes: testBytes(25, seed: 6))
        try PNGEncoder().write(first, to: url)
        try PNGEncoder().write(second, to: url)
        let decoded = try PNGTestDecoder.decode(Array(try Data(contentsOf: url)))
        #expect(decoded.width == 5 && decoded.channels == 1 && decoded.pixels == second.bytes)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["picture.png"])
    }

    @Test func writingIntoAMissingDirectoryThrows() throws {
        let url = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/picture.png")
        let image = PixelImage(width: 1, height: 1, format: .gray8, bytes: [7])
        #expect(throws: DataError.self) { try PNGEncoder().write(image, to: url) }
    }

    @Test func pythonZlibReadsTheFileWhenPythonIsPresent() throws {
        let python = URL(fileURLWithPath: "/usr/bin/python3")
        guard FileManager.default.isExecutableFile(atPath: python.path) else { return }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("check.png")
        let pixels = gradientBytes(width: 9, height: 7, channels: 3)
        try PNGEncoder().write(PixelImage(width: 9, height: 7, format: .rgb8, bytes: pixels), to: url)
        // Independent reader: walk the chunks, check each CRC with zlib.crc32, inflate IDAT, print the sizes.
        let script = """
            import struct, sys, zlib
            b = open(sys.argv[1], 'rb').read()
            assert b[:8] == bytes([137, 80, 78, 71, 13, 10, 26, 10])
            i, idat, w, h = 8, b'', 0, 0
            while i < len(b):
                n, = struct.unpack('>I', b[i:i+4]); t = b[i+4:i+8]; d = b[i+8:i+8+n]
                assert struct.unpack('>I', b[i+8+n:i+12+n])[0] == zlib.crc32(t + d)
                if t == b'IHDR': w, h = struct.unpack('>II', d[:8])
                if t == b'IDAT': idat += d
                i += 12 + n
            print(w, h, len(zlib.decompress(idat)))
            """
        let process = Process()
        process.executableURL = python
        process.arguments = ["-c", script, url.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0)
        #expect(text.trimmingCharacters(in: .whitespacesAndNewlines) == "9 7 \(7 * (1 + 9 * 3))")
    }
}

@Suite("Raster drawing")
struct RasterTests {
    @Test func fillRectClipsToTheCanvas() {
        var raster = Raster(width: 10, height: 8)
        raster.fillRect(PixelRect(x: -3, y: 6, width: 5, height: 10), .black)
        #expect(count(.black, in: raster) == 2 * 2)
        #expect(raster[0, 6] == .black && raster[1, 7] == .black && raster[2, 7] == .white)
    }

    @Test func linesCoverTheirPathAndNothingFarAway() {
        var raster = Raster(width: 60, height: 40)
        let red = RGBColor(red: 255, green: 0, blue: 0)
        raster.drawLine(x0: 5, y0: 5, x1: 55, y1: 35, red, lineWidth: 2)
        for t in stride(from: 0.05, to: 1.0, by: 0.1) {
            let x = 5 + 50 * t, y = 5 + 30 * t
            #expect(raster[Int(x), Int(y)] == red, "pixel on the segment at t = \(t)")
        }
        #expect(raster[50, 5] == .white && raster[5, 35] == .white)
        // Anti-aliasing leaves partially covered pixels at the edges.
        let partial = raster.pixels.enumerated().filter { $0.offset % 3 == 1 && $0.element > 0 && $0.element < 255 }
        #expect(!partial.isEmpty)
    }

    @Test func dashedLinesLeaveGaps() {
        var raster = Raster(width: 100, height: 9)
        raster.strokePolyline([(0, 4.5), (100, 4.5)], .black, lineWidth: 1, dash: (on: 10, off: 10))
        let row = (0..<100).map { raster[$0, 4] }
        #expect(row[5] == .black && row[15] == .white && row[25] == .black && row[35] == .white)
    }

    @Test func nonFinitePointsBreakAPolyline() {
        var raster = Raster(width: 40, height: 10)
        raster.strokePolyline([(2, 5), (12, 5), (.nan, .nan), (28, 5), (38, 5)], .black, lineWidth: 2)
        #expect(raster[7, 5] == .black && raster[33, 5] == .black)
        #expect(raster[20, 5] == .white)
    }

    @Test func circlesAreRoundAndClipped() {
        var raster = Raster(width: 30, height: 30)
        raster.fillCircle(centerX: 15, centerY: 15, radius: 6, .black)
        #expect(raster[15, 15] == .black && raster[15, 10] == .black)
        #expect(raster[15, 23] == .white && raster[20, 20] != .black)
        let darkArea = Double(count(.black, in: raster))
        #expect(abs(darkArea - Double.pi * 36) < 2 * Double.pi * 6)  // within one perimeter of πr²
        var clipped = Raster(width: 30, height: 30)
        let leftHalf = PixelRect(x: 0, y: 0, width: 15, height: 30)
        clipped.fillCircle(centerX: 15, centerY: 15, radius: 6, .black, clip: leftHalf)
        #expect(clipped[17, 15] == .white && clipped[13, 15] == .black)
    }

    @Test func textDrawsInsideItsBoxOnly() {
        let text = "Loss 0.25 (KL) β"
        let scale = 2
        let size = BitmapFont.size(of: text, scale: scale)
        #expect(size.width == (6 * text.count - 1) * scale && size.height == 9 * scale)
        var raster = Raster(width: size.width + 20, height: size.height + 20)
        raster.drawText(text, x: 10, y: 10, scale: scale, .black)
        let box = PixelRect(x: 10, y: 10, width: size.width, height: size.height)
        let inside = count(.black, in: raster, box)
        #expect(inside > 100)
        #expect(count(.black, in: raster) == inside)
        // Every non-space character leaves ink in its own cell.
        for (position, character) in text.enumerated() where character != " " {
            let cell = PixelRect(x: 10 + position * 6 * scale, y: 10, width: 5 * scale, height: size.height)
            #expect(count(.black, in: raster, cell) > 0, "glyph \(character)")
        }
    }

    @Test func verticalTextOccupiesTheRotatedBox() {
        let text = "loss"
        let size = BitmapFont.size(of: text, scale: 1)
        var raster = Raster(width: 40, height: 40)
        raster.drawText(text, x: 5, y: 3, scale: 1, .black, vertical: true)
        let box = PixelRect(x: 5, y: 3, width: size.height, height: size.width)
        #expect(count(.black, in: raster, box) > 20)
        #expect(count(.black, in: raster) == count(.black, in: raster, box))
        // Reads bottom to top: the first letter "l", a vertical stroke in the font, lies horizontally at the bottom.
        let lastRow = (0..<40).filter { raster[$0, box.y + box.height - 3] == .black }
        #expect(lastRow.count >= 3)
    }

    @Test func glyphsOfDistinctCharactersDiffer() {
        let characters = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
            + Array("abcdefghijklmnopqrstuvwxyz.,:;-+=_()[]/%!?<>*#βμσ×")
        var seen: [[UInt8]: Character] = [:]
        for character in characters {
            var raster = Raster(width: 7, height: 11)
            raster.drawText(String(character), x: 1, y: 1, .black)
            #expect(seen[raster.pixels] == nil, "\(character) looks like \(seen[raster.pixels].map(String.init) ?? "")")
            seen[raster.pixels] = character
        }
        // Unknown characters draw the replacement box rather than nothing.
        var unknown = Raster(width: 7, height: 11)
        unknown.drawText("€", x: 1, y: 1, .black)
        #expect(count(.black, in: unknown) > 10)
    }
}

@Suite("Image grids")
struct ImageGridTests {
    @Test func layoutHasTheExpectedSize() {
        let grid = ImageGrid(columns: 5, scale: 4, padding: 2)
        let layout = grid.layout(count: 10, height: 8, width: 8)
        #expect(layout.width == 5 * 32 + 6 * 2 && layout.height == 2 * 32 + 3 * 2)
        #expect(layout.tile(7) == PixelRect(x: 2 + 2 * 34, y: 2 + 34, width: 32, height: 32))
        // Fewer images than columns: only the columns needed.
        #expect(grid.layout(count: 3, height: 8, width: 8).width == 3 * 32 + 4 * 2)
        let raster = grid.render([Float](repeating: 0.5, count: 10 * 64), count: 10, channels: 1, height: 8, width: 8)
        #expect(raster.width == layout.width && raster.height == layout.height)
    }

    @Test func grayTilePixelsLandWhereExpected() {
        let count = 7, height = 3, width = 5, scale = 3
        // Image i, pixel (x, y) has value (i·15 + y·5 + x) / 255, so every byte is distinct and exact.
        var values: [Float] = []
        for i in 0..<count {
            for y in 0..<height {
                for x in 0..<width { values.append(Float(i * 15 + y * 5 + x) / 255) }
            }
        }
        let grid = ImageGrid(columns: 3, scale: scale, padding: 1, background: RGBColor(red: 255, green: 0, blue: 255))
        let raster = grid.render(values, count: count, channels: 1, height: height, width: width)
        let layout = grid.layout(count: count, height: height, width: width)
        for i in 0..<count {
            let tile = layout.tile(i)
            for y in 0..<height * scale {
                for x in 0..<width * scale {
                    let expected = UInt8(i * 15 + (y / scale) * 5 + x / scale)
                    #expect(raster[tile.x + x, tile.y + y] == RGBColor(gray: expected))
                }
            }
        }
        // Padding between tiles keeps the background; the empty eighth and ninth cells too.
        let first = layout.tile(0)
        #expect(raster[first.x + first.width, first.y] == RGBColor(red: 255, green: 0, blue: 255))
        #expect(raster[layout.tile(8).x + 1, layout.tile(8).y + 1] == RGBColor(red: 255, green: 0, blue: 255))
    }

    @Test func rgbChannelsAreReadAsPlanesAndValuesClamped() {
        // One 2×1 image: red plane [1, 0.5], green [0, 2], blue [NaN, -1].
        let values: [Float] = [1, 0.5, 0, 2, .nan, -1]
        let grid = ImageGrid(columns: 1, scale: 1, padding: 0)
        let raster = grid.render(values, count: 1, channels: 3, height: 1, width: 2)
        #expect(raster.width == 2 && raster.height == 1)
        #expect(raster[0, 0] == RGBColor(red: 255, green: 0, blue: 0))
        #expect(raster[1, 0] == RGBColor(red: 128, green: 255, blue: 0))
    }

    @Test func rowAndColumnLabelsAndTitleAreDrawnOutsideTheTiles() {
        let grid = ImageGrid(columns: 4, scale: 4, padding: 2, rowLabels: ["input", "recon"],
                             columnLabels: ["a", "b", "c", "d"], title: "Reconstructions")
        let values = [Float](repeating: 1, count: 8 * 64)
        let raster = grid.render(values, count: 8, channels: 1, height: 8, width: 8)
        let layout = grid.layout(count: 8, height: 8, width: 8)
        #expect(layout.gridX > BitmapFont.size(of: "input", scale: 2).width)
        let labelArea = PixelRect(x: 0, y: layout.gridY, width: layout.gridX, height: layout.height - layout.gridY)
        #expect(raster.pixels.count == layout.width * layout.height * 3)
        #expect(count(.black, in: raster, labelArea) > 50)
        let headerArea = PixelRect(x: 0, y: 0, width: layout.width, height: layout.gridY)
        #expect(count(.black, in: raster, headerArea) > 100)
        // Labels do not spill into the (white) tiles.
        for i in 0..<8 { #expect(count(.black, in: raster, layout.tile(i)) == 0) }
        // Column labels about as wide as a tile drop to text scale 1 (a 9-pixel line instead of 18).
        var crowded = grid
        crowded.columnLabels = ["-3σ", "0", "+3σ", "x"]
        #expect(crowded.layout(count: 8, height: 8, width: 8).gridY == layout.gridY - 9)
    }

    @Test func gridPNGRoundTrips() throws {
        let values = (0..<4 * 2 * 3).map { Float($0) / 23 }
        let grid = ImageGrid(columns: 2, scale: 2, padding: 1)
        let raster = grid.render(values, count: 4, channels: 1, height: 2, width: 3)
        let decoded = try PNGTestDecoder.decode(raster.pngData())
        #expect(decoded.width == raster.width && decoded.height == raster.height && decoded.pixels == raster.pixels)
    }
}

@Suite("Plots")
struct PlotTests {
    @Test func linearAxisTicksAreNice() {
        let axis = PlotAxis(fitting: [0.13, 0.87], logarithmic: false)
        // 4 % margins on both sides of the data, ticks at multiples of the nice step 0.2 inside.
        #expect(abs(axis.lower - (0.13 - 0.04 * 0.74)) < 1e-12 && abs(axis.upper - (0.87 + 0.04 * 0.74)) < 1e-12)
        #expect(axis.ticks.map(\.label) == ["0.2", "0.4", "0.6", "0.8"])
        let fixed = PlotAxis(fitting: [0.5], logarithmic: false, fixed: 0...1)
        #expect(fixed.lower == 0 && fixed.upper == 1)
        #expect(fixed.ticks.map(\.label) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        let big = PlotAxis(fitting: [0, 2_300_000], logarithmic: false)
        #expect(big.ticks.map(\.label) == ["0", "5e5", "1e6", "1.5e6", "2e6"])
        let small = PlotAxis(fitting: [-3, 250], logarithmic: false)
        #expect(small.ticks.map(\.label) == ["0", "50", "100", "150", "200", "250"])
        let flat = PlotAxis(fitting: [3, 3, 3], logarithmic: false)
        #expect(flat.lower < 3 && flat.upper > 3)
        #expect(PlotAxis.niceStep(0.37) == 0.5 && PlotAxis.niceStep(1.0) == 1 && PlotAxis.niceStep(13) == 10)
        #expect(PlotAxis.niceStep(0.16) == 0.2 && PlotAxis.niceStep(0.0031) == 0.002)
    }

    @Test func logAxisTicksDependOnTheDecadesSpanned() {
        let axis = PlotAxis(fitting: [0.004, 0, -1, 37], logarithmic: true)
        let span = log10(37) - log10(0.004)
        #expect(abs(axis.lower - (log10(0.004) - 0.04 * span)) < 1e-12)
        #expect(axis.ticks.map(\.label) == ["0.01", "0.1", "1", "10"])
        #expect(axis.fraction(0) == nil && axis.fraction(-2) == nil)
        #expect(abs(axis.fraction(1)! - (0 - axis.lower) / (axis.upper - axis.lower)) < 1e-12)
        let narrow = PlotAxis(fitting: [0.3, 0.9], logarithmic: true)
        #expect(narrow.ticks.map(\.label) == ["0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9"])
        let two = PlotAxis(fitting: [0.15, 9], logarithmic: true)
        #expect(two.ticks.map(\.label) == ["0.2", "0.5", "1", "2", "5", "10"])
        let wide = PlotAxis(fitting: [1e-12, 1e3], logarithmic: true)
        #expect(wide.ticks.map(\.label) == ["1e-12", "1e-9", "1e-6", "0.001", "1", "1000"])
    }

    @Test func lossCurvesAreDrawnWhereTheDataIs() throws {
        let steps = 50
        let total = (0..<steps).map { 2.0 * exp(-Double($0) / 15) + 0.3 }
        let kl = (0..<steps).map { 0.2 + 0.004 * Double($0) }
        let plot = LinePlot(title: "Training loss", xLabel: "step", yLabel: "loss",
                            series: [.init(name: "total", y: total), .init(name: "KL", y: kl, style: .dashed)])
        let raster = plot.render()
        #expect(raster.width == 720 && raster.height == 450)
        let frame = plot.frame()
        let blue = plot.color(ofSeries: 0), orange = plot.color(ofSeries: 1)
        #expect(blue == RGBColor.palette[0] && orange == RGBColor.palette[1])
        let legend = frame.legendBox(occupied: [])!
        for step in stride(from: 0, to: steps, by: 7) {
            let x = frame.pixelX(Double(step))!, y = frame.pixelY(total[step])!
            guard !legend.contains(x: Int(x), y: Int(y)) else { continue }
            #expect(has(blue, near: x, y, in: raster), "total at step \(step)")
        }
        // The total loss falls: its first point is drawn above (smaller y) its last.
        #expect(frame.pixelY(total[0])! < frame.pixelY(total[steps - 1])!)
        #expect(count(orange, in: raster, frame.plot) > 100)
        // Pixel variance: far from a blank canvas.
        let mean = raster.pixels.reduce(0.0) { $0 + Double($1) } / Double(raster.pixels.count)
        let squares = raster.pixels.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }
        let variance = squares / Double(raster.pixels.count)
        #expect(variance > 100)
        // Tick labels and titles: dark pixels left of and below the plot area.
        let area = frame.plot
        let leftMargin = PixelRect(x: 0, y: area.y, width: area.x - 6, height: area.height)
        let bottomMargin = PixelRect(x: area.x, y: area.y + area.height + 6, width: area.width, height: 60)
        #expect(count(.black, in: raster, leftMargin) > 100 && count(.black, in: raster, bottomMargin) > 100)
        // The legend landed where the curves are not and holds both swatch colours.
        #expect(count(blue, in: raster, legend) > 10 && count(orange, in: raster, legend) > 5)
    }

    @Test func logYPlotPlacesDecadesEvenly() {
        let plot = LinePlot(series: [.init(name: "loss", x: [1, 2, 3], y: [1, 0.1, 0.01], markers: true)], logY: true)
        let frame = plot.frame()
        let d1 = frame.pixelY(0.1)! - frame.pixelY(1)!, d2 = frame.pixelY(0.01)! - frame.pixelY(0.1)!
        #expect(d1 > 50 && abs(d1 - d2) < 1e-9)
        let raster = plot.render()
        #expect(has(RGBColor.palette[0], near: frame.pixelX(2)!, frame.pixelY(0.1)!, in: raster))
    }

    @Test func validationLossAgainstLatentSizeOnALogXAxis() throws {
        let sizes: [Double] = [2, 4, 8, 16, 32]
        let plot = LinePlot(xLabel: "latent size", yLabel: "validation loss",
                            series: [.init(name: "AE", x: sizes, y: [0.9, 0.6, 0.45, 0.4, 0.41], markers: true)],
                            logX: true)
        let frame = plot.frame()
        let gaps = zip(sizes, sizes.dropFirst()).map { frame.pixelX($1)! - frame.pixelX($0)! }
        #expect(gaps.allSatisfy { abs($0 - gaps[0]) < 1e-9 })
        let raster = plot.render()
        // Markers are discs of radius 3.5 around each point.
        for (size, loss) in zip(sizes, [0.9, 0.6, 0.45, 0.4, 0.41]) {
            let x = frame.pixelX(size)!, y = frame.pixelY(loss)!
            #expect(has(RGBColor.palette[0], near: x + 2, y, in: raster, radius: 0), "marker at \(size)")
            #expect(has(RGBColor.palette[0], near: x, y + 2, in: raster, radius: 0), "marker at \(size)")
        }
    }

    @Test func rocPlotHasTheChanceDiagonalAndTheCurve() {
        let plot = LinePlot.roc([.init(name: "AUC 0.93", x: [0, 0.05, 0.1, 0.3, 1], y: [0, 0.6, 0.8, 0.95, 1])])
        let frame = plot.frame()
        let raster = plot.render()
        let legend = frame.legendBox(occupied: [])!
        var diagonalHits = 0
        for t in stride(from: 0.1, through: 0.9, by: 0.1) {
            let x = frame.pixelX(t)!, y = frame.pixelY(t)!
            guard !legend.contains(x: Int(x), y: Int(y)) else { continue }
            if has(.gray, near: x, y, in: raster, radius: 3) { diagonalHits += 1 }
        }
        #expect(diagonalHits >= 5)
        #expect(has(RGBColor.palette[0], near: frame.pixelX(0.1)!, frame.pixelY(0.8)!, in: raster))
        // Both axes are fixed to [−0.02, 1.02].
        #expect(abs(frame.pixelX(-0.02)! - (Double(frame.plot.x) + 0.5)) < 1e-9)
        #expect(abs(frame.pixelY(1.02)! - (Double(frame.plot.y) + 0.5)) < 1e-9)
    }

    @Test func scatterColoursPointsByClassWithALegend() throws {
        var x: [Double] = [], y: [Double] = [], labels: [Int] = []
        for label in 0..<4 {
            for k in 0..<25 {
                let angle = Double(k) * 0.25
                x.append(Double(label) * 3 + cos(angle))
                y.append(Double(label % 2) * 4 + sin(angle))
                labels.append(label * 2)  // labels 0, 2, 4, 6 take palette colours 0…3
            }
        }
        let plot = ScatterPlot(title: "Latent space", xLabel: "z1", yLabel: "z2", x: x, y: y, labels: labels,
                               classNames: [0: "zero"], opacity: 1)
        #expect(plot.classColors.map(\.label) == [0, 2, 4, 6])
        let raster = plot.render()
        let frame = plot.frame()
        for index in stride(from: 0, to: x.count, by: 10) {
            let color = RGBColor.palette(labels[index] / 2)
            #expect(has(color, near: frame.pixelX(x[index])!, frame.pixelY(y[index])!, in: raster, radius: 2))
        }
        let legend = frame.legendBox(occupied: [])!
        #expect(legend.x >= frame.plot.x + frame.plot.width)
        for k in 0..<4 { #expect(count(RGBColor.palette(k), in: raster, legend) > 10) }
        #expect(count(.black, in: raster, legend) > 50)
        let decoded = try PNGTestDecoder.decode(raster.pngData())
        let same = decoded.pixels == raster.pixels
        #expect(same)
    }

    @Test func logLossPlotWritesADecodablePNG() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let steps = 200
        let plot = LinePlot(
            title: "β-VAE training", xLabel: "step", yLabel: "loss (nats)",
            series: [
                .init(name: "total", y: (0..<steps).map { 60 * exp(-Double($0) / 40) + 25 + 2 * sin(Double($0)) }),
                .init(name: "reconstruction", y: (0..<steps).map { 55 * exp(-Double($0) / 35) + 18 + sin(Double($0)) }),
                .init(name: "KL", y: (0..<steps).map { 8 * (1 - exp(-Double($0) / 30)) }),
                .init(name: "β", y: (0..<steps).map { min(1, Double($0) / 100) }, style: .dashed),
            ], logY: true)
        let url = directory.appendingPathComponent("loss.png")
        try plot.write(to: url)
        let decoded = try PNGTestDecoder.decode(Array(try Data(contentsOf: url)))
        #expect(decoded.width == plot.width && decoded.channels == 3)
    }
}

@Suite("HTML report")
struct HTMLReportTests {
    @Test func embedsImagesAndEscapesText() throws {
        let grid = ImageGrid(columns: 2, scale: 2)
        let raster = grid.render([0, 0.5, 1, 0.25], count: 4, channels: 1, height: 1, width: 1)
        let png = try raster.pngData()
        var report = HTMLReport(title: "Loss < 1 & \"done\"", summary: "a <b>bold</b> claim",
                                metrics: [.init("test MSE", 0.012345678), .init("epochs", 30)])
        report.addSection("Reconstructions", [
            try .figure(raster, caption: "inputs over <recon>"),
            .table(header: ["z", "KL"], rows: [["1", "0.5"], ["2", "<0.1"]]),
            .preformatted("lr = 1e-3\nβ = 4"),
        ])
        let html = report.html()
        #expect(html.contains("<title>Loss &lt; 1 &amp; &quot;done&quot;</title>"))
        #expect(html.contains("a &lt;b&gt;bold&lt;/b&gt; claim"))
        #expect(!html.contains("<b>"))
        #expect(html.contains("<figcaption>inputs over &lt;recon&gt;</figcaption>"))
        #expect(html.contains("<td>&lt;0.1</td>"))
        #expect(html.contains("<td>0.01235</td>") && html.contains("<td>30</td>"))
        #expect(html.contains("β = 4"))
        #expect(!html.contains("<link") && !html.contains("<script"))
        // The data URI carries exactly the PNG bytes.
        let marker = "data:image/png;base64,"
        let start = try #require(html.range(of: marker)).upperBound
        let encoded = html[start...].prefix { $0 != "\"" }
        let bytes = try #require(Data(base64Encoded: String(encoded)))
        #expect(Array(bytes) == png)
        #expect(try PNGTestDecoder.decode(Array(bytes)).pixels == raster.pixels)
    }

    @Test func writesTheFileAtomically() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("report.html")
        let report = HTMLReport(title: "Run 1", sections: [.init("Notes", [.paragraph("ok")])])
        try report.write(to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == report.html())
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["report.html"])
    }
}
