import Autoencoders
import Foundation
import Testing

/// The generated sprites show the factors they claim.
@Suite struct ShapesDatasetTests {
    /// Pixel count, centroid (column, row of pixel centres) and bounding-box width of image `index`.
    static func measure(_ data: Dataset, _ index: Int) -> (area: Int, x: Double, y: Double, width: Int) {
        let side = ShapesDataset.side
        var area = 0, sx = 0.0, sy = 0.0, left = side, right = -1
        for (offset, value) in data.sample(index).enumerated() where value > 0 {
            let (row, column) = (offset / side, offset % side)
            area += 1
            sx += Double(column) + 0.5
            sy += Double(row) + 0.5
            left = min(left, column)
            right = max(right, column)
        }
        return (area, sx / Double(max(area, 1)), sy / Double(max(area, 1)), right - left + 1)
    }

    @Test func aFullSmallGridHasEveryCombinationOnce() throws {
        let configuration = try ShapesDataset.Configuration(parsing: "shapes:all:2x3x4x5")
        let (data, factors) = ShapesDataset.generate(configuration)
        #expect(data.count == 3 * 2 * 3 * 4 * 5 && data.shape == [1, 64, 64])
        #expect(Set(factors).count == data.count)
        #expect(data.labels == factors.map { Int32($0.shape) })
        #expect(data.features.allSatisfy { $0 == 0 || $0 == 1 }, "binary pixels")
        #expect(factors.allSatisfy { $0.scale < 2 && $0.rotation < 3 && $0.x < 4 && $0.y < 5 && $0.shape < 3 })
    }

    @Test func spritesSitWhereTheirFactorsSay() throws {
        let grid = ShapesDataset.Grid(scales: 3, rotations: 8, positionsX: 4, positionsY: 4)
        let (data, factors) = ShapesDataset.generate(.init(grid: grid, count: nil))
        for (index, f) in factors.enumerated() {
            let m = Self.measure(data, index)
            let r = ShapesDataset.radius(f, grid: grid)
            #expect(m.area > 0)
            if f.shape != 2 {  // squares and ellipses are symmetric about their centre
                let c = ShapesDataset.center(f, grid: grid)
                #expect(abs(m.x - c.x) < 0.5 && abs(m.y - c.y) < 0.5, "\(f): centroid (\(m.x), \(m.y)) vs \(c)")
            }
            if f.rotation == 0 {
                // area of the outline: square (1.6r)², ellipse π·r·0.55r
                let expected = f.shape == 0 ? 2.56 * r * r : f.shape == 1 ? Double.pi * 0.55 * r * r : nil
                if let expected { #expect(abs(Double(m.area) / expected - 1) < 0.15, "\(f): area \(m.area) vs \(expected)") }
            }
        }
        // larger scale, larger sprite; a square turned by 45° is wider than an upright one
        func index(_ f: ShapesDataset.Factors) -> Int { factors.firstIndex(of: f)! }
        for shape in 0..<3 {
            let areas = (0..<3).map { Self.measure(data, index(.init(shape: shape, scale: $0, rotation: 0, x: 1, y: 2))).area }
            #expect(areas[0] < areas[1] && areas[1] < areas[2], "shape \(shape) areas \(areas)")
        }
        let upright = Self.measure(data, index(.init(shape: 0, scale: 2, rotation: 0, x: 1, y: 1)))
        let turned = Self.measure(data, index(.init(shape: 0, scale: 2, rotation: 1, x: 1, y: 1)))
        #expect(Double(turned.width) > 1.25 * Double(upright.width), "√2 wider in theory")
        // an ellipse is wide at rotation 0 and tall at a quarter turn
        let flat = Self.measure(data, index(.init(shape: 1, scale: 2, rotation: 0, x: 1, y: 1)))
        let standing = Self.measure(data, index(.init(shape: 1, scale: 2, rotation: 2, x: 1, y: 1)))
        #expect(flat.width > standing.width + 5)
        // the heart's lobes are on top: more pixels above its row centre than below
        let heart = Self.measure(data, index(.init(shape: 2, scale: 2, rotation: 0, x: 1, y: 1)))
        #expect(heart.y < ShapesDataset.center(.init(shape: 2, scale: 2, rotation: 0, x: 1, y: 1), grid: grid).y)
    }

    @Test func randomDrawsAreSeeded() {
        let a = ShapesDataset.generate(.init(count: 50, seed: 1)), b = ShapesDataset.generate(.init(count: 50, seed: 1))
        let c = ShapesDataset.generate(.init(count: 50, seed: 2))
        #expect(a.factors == b.factors && a.dataset == b.dataset)
        #expect(a.factors != c.factors)
        #expect(a.factors.allSatisfy { $0.scale < 6 && $0.rotation < 40 && $0.x < 32 && $0.y < 32 })
    }

    @Test func theDataSourceParsesShapes() throws {
        let source = try DataSource(parsing: "shapes:40")
        let data = try source.load()
        #expect(data.count == 40 && data.shape == [1, 64, 64] && data.labels?.count == 40)
        #expect(try ShapesDataset.Configuration(parsing: "shapes") == ShapesDataset.Configuration())
        #expect(source.description == "shapes:40:6x40x32x32")
        #expect(try ShapesDataset.Configuration(parsing: "shapes:all:1x2x3x4").description == "shapes:all:1x2x3x4")
        for bad in ["shapes:0", "shapes:all", "shapes:10:2x2", "shapes:x", "shapes:10:0x1x1x1", "shapes:1:2:3:4"] {
            #expect(throws: DataError.self, "\(bad)") { try DataSource(parsing: bad) }
        }
        #expect(throws: DataError.self) { try DataSource(parsing: "shapes", csv: CSVOptions(labelColumn: "y")) }
    }
}
