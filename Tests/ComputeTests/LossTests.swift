import Compute
import Foundation
import Testing
import TestSupport

/// Double references for the loss terms.
enum LossReference {
    static func loss(_ kind: ReconstructionLoss, _ x: Double, _ t: Double) -> Double {
        switch kind {
        case .bceWithLogits: return max(x, 0) - x * t + log1p(exp(-abs(x)))
        case .bce: return -(t * max(log(x), -100) + (1 - t) * max(log1p(-x), -100))
        case .mse: return (x - t) * (x - t)
        }
    }

    static func gradient(_ kind: ReconstructionLoss, _ x: Double, _ t: Double) -> Double {
        switch kind {
        case .bceWithLogits: return 1 / (1 + exp(-x)) - t
        case .bce: return (x - t) / max(x * (1 - x), 1e-12)
        case .mse: return 2 * (x - t)
        }
    }

    static func perRow(_ kind: ReconstructionLoss, _ x: [Double], _ t: [Double], rows: Int, cols: Int) -> [Double] {
        (0..<rows).map { r in (r * cols..<(r + 1) * cols).reduce(0.0) { $0 + loss(kind, x[$1], t[$1]) } }
    }

    static func l1PerRow(_ x: [Double], rows: Int, cols: Int, lambda: Double) -> [Double] {
        (0..<rows).map { r in lambda * x[r * cols..<(r + 1) * cols].reduce(0.0) { $0 + abs($1) } }
    }
}

@Suite struct LossTests {
    static let kinds: [ReconstructionLoss] = [.bceWithLogits, .bce, .mse]

    /// Predictions suited to each loss: logits anywhere, probabilities strictly inside (0, 1).
    static func predictions(_ kind: ReconstructionLoss, _ count: Int, _ rng: inout TestRandom) -> [Float] {
        kind == .bce ? rng.array(count, 0.02, 0.98) : rng.array(count, -4, 4)
    }

    @Test(arguments: kinds)
    func referenceGradientIsTheDerivativeOfTheLoss(kind: ReconstructionLoss) {
        var rng = TestRandom(seed: 31)
        let (rows, cols) = (3, 17)
        let x = doubles(Self.predictions(kind, rows * cols, &rng)), t = doubles(rng.array(rows * cols, 0, 1))
        let numeric = centralDifferenceGradient(at: x) { LossReference.perRow(kind, $0, t, rows: rows, cols: cols).reduce(0, +) }
        let analytic = x.indices.map { LossReference.gradient(kind, x[$0], t[$0]) }
        #expect(mismatchDoubles(analytic, numeric, rtol: 1e-6, atol: 1e-7) == nil, "\(kind)")
    }

    @Test(arguments: TestDevices.selectors, kinds)
    func reconstructionLossMatchesReference(selector: String, kind: ReconstructionLoss) throws {
        let device = try TestDevices.device(selector)
        var rng = TestRandom(seed: 32)
        for (rows, cols) in [(1, 1), (3, 200), (17, 129), (64, 10)] {
            let n = rows * cols
            let x = Self.predictions(kind, n, &rng), t = rng.array(n, 0, 1)
            let store = try device.makeBuffer(rng.array(3) + x + t)
            let out = try device.makeBuffer([Float](repeating: .nan, count: rows + 1 + n))
            let scale: Float = 0.25
            device.reconstructionLoss(kind, prediction: store.slice(3, n), target: store.slice(3 + n, n), rows: rows,
                                      cols: cols, perRow: out.slice(0, rows), gradient: out.slice(rows + 1, n),
                                      gradientScale: scale)
            let result = device.read(out.whole)
            let (xd, td) = (doubles(x), doubles(t))
            #expect(result[rows].isNaN)
            #expect(mismatch(Array(result[..<rows]), LossReference.perRow(kind, xd, td, rows: rows, cols: cols)) == nil,
                    "\(selector) \(kind) loss \(rows)x\(cols)")
            let gradient = (0..<n).map { Double(scale) * LossReference.gradient(kind, xd[$0], td[$0]) }
            #expect(mismatch(Array(result[(rows + 1)...]), gradient) == nil, "\(selector) \(kind) gradient \(rows)x\(cols)")

            // Without a gradient only the per-row losses are written.
            let perRow = try device.makeBuffer(count: rows, dtype: .float32)
            device.reconstructionLoss(kind, prediction: store.slice(3, n), target: store.slice(3 + n, n), rows: rows,
                                      cols: cols, perRow: perRow.whole, gradient: nil, gradientScale: scale)
            #expect(exactMismatch(device.read(perRow.whole), Array(result[..<rows])) == nil, "\(selector) \(kind) without gradient")
        }
    }

    @Test(arguments: TestDevices.selectors)
    func extremeInputsStayFinite(selector: String) throws {
        let device = try TestDevices.device(selector)
        let cases: [(ReconstructionLoss, [Float], [Float], [Double], [Double])] = [
            // Logits far out: log(1 + e^{−|x|}) never overflows, and the sigmoid saturates cleanly.
            (.bceWithLogits, [-100, 100, 0, 30, -30, 88.8], [1, 0, 0.5, 1, 0, 1],
             [100, 100, log(2), log1p(exp(-30)), log1p(exp(-30)), 0], [-1, 1, 0, 0, 0, 0]),
            // Probabilities at 0 and 1: each log clamps at −100 and the gradient's denominator at 1e-12.
            (.bce, [0, 1, 0, 1, 0.5], [1, 0, 0, 1, 0.25],
             [100, 100, 0, 0, -(0.25 * log(0.5) + 0.75 * log(0.5))], [-1e12, 1e12, 0, 0, 1]),
        ]
        for (kind, x, t, losses, gradients) in cases {
            let n = x.count
            let perRow = try device.makeBuffer(count: n, dtype: .float32)
            let gradient = try device.makeBuffer(count: n, dtype: .float32)
            device.reconstructionLoss(kind, prediction: try device.makeBuffer(x).whole, target: try device.makeBuffer(t).whole,
                                      rows: n, cols: 1, perRow: perRow.whole, gradient: gradient.whole, gradientScale: 1)
            #expect(mismatch(device.read(perRow.whole), losses, rtol: 1e-5, atol: 1e-6) == nil, "\(selector) \(kind)")
            #expect(mismatch(device.read(gradient.whole), gradients, rtol: 1e-5, atol: 1e-6) == nil, "\(selector) \(kind)")
        }
    }

    @Test(arguments: TestDevices.selectors)
    func l1PenaltyMatchesReferenceAndFiniteDifferences(selector: String) throws {
        let device = try TestDevices.device(selector)
        var rng = TestRandom(seed: 33)
        let lambda = 0.3, scale = 0.5
        for (rows, cols) in [(1, 1), (5, 300), (33, 7)] {
            let n = rows * cols
            var x = rng.array(n)
            x[0] = 0
            // The penalty's gradient (away from 0) is the derivative of λ·Σ|x|.
            let xd = doubles(x)
            let sign = xd.map { $0 > 0 ? 1.0 : ($0 < 0 ? -1.0 : 0.0) }
            let numeric = centralDifferenceGradient(at: xd, step: 1e-7) {
                LossReference.l1PerRow($0, rows: rows, cols: cols, lambda: lambda).reduce(0, +)
            }
            #expect(mismatchDoubles(zip(sign, xd).filter { $1 != 0 }.map { lambda * $0.0 },
                                    zip(numeric, xd).filter { $1 != 0 }.map(\.0), rtol: 1e-6, atol: 1e-7) == nil)

            let old = rng.array(n)
            let store = try device.makeBuffer(rng.array(2) + x)
            let perRow = try device.makeBuffer(count: rows, dtype: .float32)
            let gradient = try device.makeBuffer(old)
            device.l1Penalty(store.slice(2, n), rows: rows, cols: cols, lambda: Float(lambda), perRow: perRow.whole,
                             gradient: gradient.whole, gradientScale: Float(scale))
            let expectedRows = LossReference.l1PerRow(xd, rows: rows, cols: cols, lambda: lambda)
            #expect(mismatch(device.read(perRow.whole), expectedRows) == nil, "\(selector) \(rows)x\(cols)")
            #expect(mismatch(device.read(gradient.whole), (0..<n).map { Double(old[$0]) + scale * lambda * sign[$0] }) == nil,
                    "\(selector) gradient \(rows)x\(cols)")

            device.fill(perRow.whole, with: .nan)
            device.l1Penalty(store.slice(2, n), rows: rows, cols: cols, lambda: Float(lambda), perRow: perRow.whole,
                             gradient: nil, gradientScale: Float(scale))
            #expect(mismatch(device.read(perRow.whole), expectedRows) == nil, "\(selector) without gradient")
        }
    }
}
