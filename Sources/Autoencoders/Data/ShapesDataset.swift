import Dispatch
import Foundation

/// A procedural, seeded data set in the manner of dSprites (Matthey et al. 2017): 64×64 binary images of one
/// white sprite on black, generated from five known factors of variation.
///
/// Factors and their values (index i of a factor with n values):
/// - shape: square (0), ellipse (1), heart (2), which is also the label;
/// - scale: s = 0.5 + 0.5·i/(n − 1) (6 values in dSprites), the sprite's radius is r = 12·s pixels;
/// - rotation: θ = 2π·i/n (40 values), counter-clockwise on screen;
/// - x and y position: the centre lies at c = 14 + 36·i/(n − 1) pixels (32 values each), so every sprite stays
///   inside the frame.
///
/// Pixel (u, v) (column, row) is on when its centre (u + ½, v + ½), moved to the sprite frame
/// p = R(−θ)·((u + ½ − cₓ), −(v + ½ − c_y))/r (y pointing up), lies inside the shape:
/// - square: max(|pₓ|, |p_y|) ≤ 0.8;
/// - ellipse: pₓ² + (p_y/0.55)² ≤ 1;
/// - heart: with (a, b) = 1.15·(pₓ, p_y + 0.1), (a² + b² − 1)³ − a²b³ ≤ 0.
///
/// The full dSprites grid holds 3·6·40·32·32 = 737,280 images (12 GB of floats), so data sets are either a seeded
/// random draw of `count` factor combinations from a grid, or the whole of a smaller grid.
public enum ShapesDataset {
    /// Side of every image in pixels.
    public static let side = 64
    /// Names of the shapes, by label.
    public static let shapeNames = ["square", "ellipse", "heart"]

    /// How many values each continuous factor takes.
    public struct Grid: Equatable, Sendable, Codable {
        /// Scale values (dSprites: 6).
        public var scales: Int
        /// Rotation values over a full turn (dSprites: 40).
        public var rotations: Int
        /// Horizontal positions (dSprites: 32).
        public var positionsX: Int
        /// Vertical positions (dSprites: 32).
        public var positionsY: Int

        /// A grid with the given number of values per factor.
        public init(scales: Int = 6, rotations: Int = 40, positionsX: Int = 32, positionsY: Int = 32) {
            self.scales = scales
            self.rotations = rotations
            self.positionsX = positionsX
            self.positionsY = positionsY
        }

        /// The number of factor combinations, 3·scales·rotations·positionsX·positionsY.
        public var combinations: Int { shapeNames.count * scales * rotations * positionsX * positionsY }
    }

    /// Indices of the five factors of one image.
    public struct Factors: Equatable, Hashable, Sendable {
        /// 0 square, 1 ellipse, 2 heart.
        public var shape: Int
        public var scale: Int
        public var rotation: Int
        public var x: Int
        public var y: Int

        /// Factor indices, each within its grid's range.
        public init(shape: Int, scale: Int, rotation: Int, x: Int, y: Int) {
            self.shape = shape
            self.scale = scale
            self.rotation = rotation
            self.x = x
            self.y = y
        }
    }

    /// What to generate: a grid, and either `count` random combinations from it or (count nil) all of them.
    public struct Configuration: Equatable, Sendable, CustomStringConvertible {
        /// Largest data set generated at once (a full grid larger than this must be sampled with a count).
        public static let maximumCount = 100_000
        /// Default number of images for `--data shapes`.
        public static let defaultCount = 5_000

        public var grid: Grid
        /// Images drawn at random from the grid (with replacement); nil for every combination in grid order.
        public var count: Int?
        /// Seed of the draw.
        public var seed: UInt64

        /// A configuration; see ``init(parsing:)`` for the command-line form.
        public init(grid: Grid = Grid(), count: Int? = defaultCount, seed: UInt64 = 0) {
            self.grid = grid
            self.count = count
            self.seed = seed
        }

        /// Parses `shapes[:COUNT|all][:SxRxXxY]`: `shapes` is 5,000 random images from the dSprites grid,
        /// `shapes:2000` 2,000 of them, `shapes:all:2x8x8x8` every combination of a grid of 2 scales,
        /// 8 rotations and 8×8 positions, `shapes:500:3x10x16x16` 500 random images from that grid.
        ///
        /// - Throws: `invalidArgument` when a part is not a positive number, a full grid exceeds
        ///   ``maximumCount``, or a count exceeds it.
        public init(parsing text: String) throws {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            let usage = "use shapes, shapes:COUNT, shapes:COUNT:SCALESxROTATIONSxXxY or shapes:all:SCALESxROTATIONSxXxY"
            guard parts.first == "shapes", (1...3).contains(parts.count) else {
                throw DataError(file: text, .invalidArgument(usage))
            }
            var configuration = Configuration()
            if parts.count == 3 {
                let sizes = parts[2].split(separator: "x").map { Int($0) }
                guard sizes.count == 4, let s = sizes[0], let r = sizes[1], let x = sizes[2], let y = sizes[3],
                      s > 0, r > 0, x > 0, y > 0, s <= 1000, r <= 1000, x <= 1000, y <= 1000 else {
                    throw DataError(file: text, .invalidArgument("grid '\(parts[2])' needs four positive sizes: \(usage)"))
                }
                configuration.grid = Grid(scales: s, rotations: r, positionsX: x, positionsY: y)
            }
            if parts.count >= 2 {
                if parts[1] == "all" {
                    configuration.count = nil
                } else {
                    guard let count = Int(parts[1]), count > 0 else {
                        throw DataError(file: text, .invalidArgument("count '\(parts[1])' is not a positive number: \(usage)"))
                    }
                    configuration.count = count
                }
            }
            let total = configuration.count ?? configuration.grid.combinations
            guard total <= Self.maximumCount else {
                throw DataError(file: text, .invalidArgument(
                    "\(total) images of 64×64 is more than the \(Self.maximumCount) generated at once: give a smaller count or grid"))
            }
            self = configuration
        }

        /// The command-line form, `shapes:COUNT:SxRxXxY` or `shapes:all:SxRxXxY`.
        public var description: String {
            "shapes:\(count.map(String.init) ?? "all"):\(grid.scales)x\(grid.rotations)x\(grid.positionsX)x\(grid.positionsY)"
        }
    }

    /// The images (shape `[1, 64, 64]`, values 0 or 1, labels = shape) and the factors of each.
    public static func generate(_ configuration: Configuration) -> (dataset: Dataset, factors: [Factors]) {
        let grid = configuration.grid
        let factors: [Factors]
        if let count = configuration.count {
            var generator = SplitMix64(seed: configuration.seed)
            factors = (0..<count).map { _ in
                factorsOfCombination(Int(generator.next(upperBound: UInt64(grid.combinations))), grid: grid)
            }
        } else {
            factors = (0..<grid.combinations).map { factorsOfCombination($0, grid: grid) }
        }
        let pixels = side * side
        var features = [Float](repeating: 0, count: factors.count * pixels)
        features.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            // images are independent: split them over the cores
            let parts = max(1, min(ProcessInfo.processInfo.activeProcessorCount, factors.count / 64))
            let size = (factors.count + parts - 1) / parts
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                for i in (part * size)..<min(factors.count, (part + 1) * size) {
                    draw(factors[i], grid: grid, into: UnsafeMutableBufferPointer(start: base + i * pixels, count: pixels))
                }
            }
        }
        let name = configuration.count.map { "shapes-\($0)" } ?? "shapes-all"
        let dataset = Dataset(name: name, shape: [1, side, side], features: features,
                              labels: factors.map { Int32($0.shape) })
        return (dataset, factors)
    }

    /// The factors of combination `index`, numbered with x fastest, then y, rotation, scale and shape.
    public static func factorsOfCombination(_ index: Int, grid: Grid) -> Factors {
        var rest = index
        let x = rest % grid.positionsX; rest /= grid.positionsX
        let y = rest % grid.positionsY; rest /= grid.positionsY
        let rotation = rest % grid.rotations; rest /= grid.rotations
        let scale = rest % grid.scales; rest /= grid.scales
        return Factors(shape: rest, scale: scale, rotation: rotation, x: x, y: y)
    }

    /// The sprite's radius r = 12·(0.5 + 0.5·i/(n − 1)) in pixels (12·0.75 for a single scale).
    public static func radius(_ factors: Factors, grid: Grid) -> Double {
        12 * (0.5 + 0.5 * fraction(factors.scale, of: grid.scales, single: 0.5))
    }

    /// The rotation θ = 2π·i/n in radians.
    public static func angle(_ factors: Factors, grid: Grid) -> Double {
        2 * Double.pi * Double(factors.rotation) / Double(grid.rotations)
    }

    /// The sprite's centre (cₓ, c_y) in pixels: 14 + 36·i/(n − 1) (the image centre for a single position).
    public static func center(_ factors: Factors, grid: Grid) -> (x: Double, y: Double) {
        (14 + 36 * fraction(factors.x, of: grid.positionsX, single: 0.5),
         14 + 36 * fraction(factors.y, of: grid.positionsY, single: 0.5))
    }

    /// Whether the point p of the sprite frame (radius 1, y up) lies inside `shape`.
    public static func contains(shape: Int, x px: Double, y py: Double) -> Bool {
        switch shape {
        case 0:
            return max(abs(px), abs(py)) <= 0.8
        case 1:
            let v = py / 0.55
            return px * px + v * v <= 1
        default:
            let a = 1.15 * px, b = 1.15 * (py + 0.1)
            let q = a * a + b * b - 1
            return q * q * q - a * a * b * b * b <= 0
        }
    }

    /// Renders one sprite into `pixels` (64·64 values, all zero on entry), scanning only its bounding box.
    private static func draw(_ factors: Factors, grid: Grid, into pixels: UnsafeMutableBufferPointer<Float>) {
        let r = radius(factors, grid: grid), theta = angle(factors, grid: grid)
        let (cx, cy) = center(factors, grid: grid)
        let cosine = cos(theta), sine = sin(theta)
        let reach = 1.5 * r + 1
        let left = max(0, Int((cx - reach).rounded(.down))), right = min(side - 1, Int((cx + reach).rounded(.up)))
        let top = max(0, Int((cy - reach).rounded(.down))), bottom = min(side - 1, Int((cy + reach).rounded(.up)))
        for row in top...bottom {
            let dy = -(Double(row) + 0.5 - cy) / r
            for column in left...right {
                let dx = (Double(column) + 0.5 - cx) / r
                // rotate by −θ into the sprite frame
                let px = cosine * dx + sine * dy, py = -sine * dx + cosine * dy
                if contains(shape: factors.shape, x: px, y: py) { pixels[row * side + column] = 1 }
            }
        }
    }

    /// i/(n − 1), or `single` when n = 1.
    private static func fraction(_ index: Int, of count: Int, single: Double) -> Double {
        count > 1 ? Double(index) / Double(count - 1) : single
    }
}
