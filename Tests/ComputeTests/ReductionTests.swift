import Compute
import Testing
import TestSupport

/// Plain double-precision reference for y = scale · reduce(x) along `axis` (+ y0 for the sums when accumulating).
func referenceReduce(_ x: [Float], rows: Int, cols: Int, axis: ReductionAxis, op: ReductionOp, scale: Double,
                     y0: [Float]?) -> [Double] {
    func fold(_ indices: [Int]) -> Double {
        switch op {
        case .sum: return indices.reduce(0) { $0 + Double(x[$1]) }
        case .sumOfSquares: return indices.reduce(0) { $0 + Double(x[$1]) * Double(x[$1]) }
        case .sumOfAbs: return indices.reduce(0) { $0 + abs(Double(x[$1])) }
        case .max: return indices.reduce(-Double.infinity) { max($0, Double(x[$1])) }
        }
    }
    let groups: [[Int]]
    switch axis {
    case .rows: groups = (0..<cols).map { j in (0..<rows).map { $0 * cols + j } }
    case .columns: groups = (0..<rows).map { i in (0..<cols).map { i * cols + $0 } }
    case .all: groups = [Array(0..<(rows * cols))]
    }
    return groups.indices.map { g in
        scale * fold(groups[g]) + (op != .max ? y0.map { Double($0[g]) } ?? 0 : 0)
    }
}

let allReductionOps: [ReductionOp] = [.sum, .sumOfSquares, .sumOfAbs, .max]

@Suite struct ReductionTests {
    @Test(arguments: TestDevices.selectors, [ReductionAxis.rows, .columns, .all])
    func matchesReference(selector: String, axis: ReductionAxis) throws {
        let device = try TestDevices.device(selector)
        var rng = TestRandom(seed: 17)
        for (rows, cols) in [(1, 1), (3, 1000), (1000, 3), (129, 257), (2, 17), (300, 1)] {
            let x = rng.array(rows * cols, -2, 1)  // mostly negative, so a max starting from 0 would show
            let outputs = axis == .rows ? cols : (axis == .columns ? rows : 1)
            let (_, dx) = try paddedBuffer(device, x, offset: 7)
            for op in allReductionOps {
                for (scale, accumulate) in [(Float(1), false), (Float(0.25), true), (Float(-3), false)] {
                    let y0 = rng.array(outputs)
                    let (store, dy) = try paddedBuffer(device, y0, offset: 2)
                    device.reduce(dx, rows: rows, cols: cols, axis: axis, op: op, scale: scale, into: dy,
                                  accumulate: accumulate)
                    let expected = referenceReduce(x, rows: rows, cols: cols, axis: axis, op: op, scale: Double(scale),
                                                   y0: accumulate ? y0 : nil)
                    #expect(mismatch(device.read(dy), expected, rtol: 1e-5, atol: 1e-5) == nil,
                            "\(selector) \(rows)x\(cols) \(axis) \(op) scale=\(scale) accumulate=\(accumulate)")
                    #expect(paddingIntact(device, store, dy))
                }
            }
        }
        try device.checkHealth()
    }

    /// A million-element reduction is accurate to float precision and gives the same bits on every call.
    @Test(arguments: TestDevices.selectors)
    func longReductionsAreAccurateAndDeterministic(selector: String) throws {
        let device = try TestDevices.device(selector)
        var rng = TestRandom(seed: 23)
        let n = 1_000_003
        let x = rng.array(n, 0, 1).map { $0 + 0.5 }
        let (_, dx) = try paddedBuffer(device, x, offset: 13)
        let y = try device.makeBuffer(count: 3, dtype: .float32)
        for op in allReductionOps {
            let expected = referenceReduce(x, rows: 1, cols: n, axis: .all, op: op, scale: 1, y0: nil)
            device.reduce(dx, rows: 1, cols: n, axis: .all, op: op, scale: 1, into: y.slice(1, 1), accumulate: false)
            let first = device.read(y.slice(1, 1))
            #expect(mismatch(first, expected, rtol: 1e-5, atol: 0) == nil, "\(selector) .all \(op)")
            for _ in 0..<3 {
                device.reduce(dx, rows: 1, cols: n, axis: .all, op: op, scale: 1, into: y.slice(1, 1), accumulate: false)
                #expect(device.read(y.slice(1, 1))[0].bitPattern == first[0].bitPattern, "\(selector) .all \(op) repeat")
            }
            // The same data as one long row, and as a 3-column matrix reduced down its rows.
            device.reduce(dx, rows: 1, cols: n, axis: .columns, op: op, scale: 1, into: y.slice(0, 1), accumulate: false)
            #expect(mismatch(device.read(y.slice(0, 1)), expected, rtol: 1e-5, atol: 0) == nil, "\(selector) long row \(op)")
        }
        let tall = dx.slice(0, n - 1)  // 333_334 × 3
        let columnSums = referenceReduce(Array(x[0..<(n - 1)]), rows: (n - 1) / 3, cols: 3, axis: .rows, op: .sum,
                                         scale: 1, y0: nil)
        device.reduce(tall, rows: (n - 1) / 3, cols: 3, axis: .rows, op: .sum, scale: 1, into: y.whole, accumulate: false)
        #expect(mismatch(device.read(y.whole), columnSums, rtol: 1e-5, atol: 0) == nil, "\(selector) tall .rows")
        try device.checkHealth()
    }

    @Test(arguments: TestDevices.selectors)
    func emptyReductionsGiveTheIdentity(selector: String) throws {
        let device = try TestDevices.device(selector)
        let x = try device.makeBuffer(count: 0, dtype: .float32)
        let y = try device.makeBuffer([Float(5), 5])
        device.reduce(x.whole, rows: 0, cols: 2, axis: .rows, op: .sum, scale: 1, into: y.whole, accumulate: true)
        #expect(device.read(y.whole) == [5, 5])
        device.reduce(x.whole, rows: 0, cols: 2, axis: .rows, op: .max, scale: 1, into: y.whole, accumulate: false)
        #expect(device.read(y.whole) == [-.infinity, -.infinity])
        device.reduce(x.whole, rows: 0, cols: 0, axis: .all, op: .sumOfSquares, scale: 1, into: y.slice(0, 1), accumulate: false)
        #expect(device.read(y.whole) == [0, -.infinity])
    }

    @Test(arguments: TestDevices.selectors)
    func gatherRowsFollowsIndices(selector: String) throws {
        let device = try TestDevices.device(selector)
        var rng = TestRandom(seed: 29)
        for cols in [1, 7, 300] {
            let sourceRows = 10
            let x = rng.array(sourceRows * cols)
            let indices: [Int32] = [3, 3, 0, 9, 1, 3, 8, 2, 0]
            let (_, dx) = try paddedBuffer(device, x, offset: 5)
            let indexStore = try device.makeBuffer([Int32(77), 77] + indices)
            let (store, dy) = try paddedBuffer(device, [Float](repeating: .nan, count: indices.count * cols), offset: 3)
            device.gatherRows(dx, indices: indexStore.slice(2, indices.count), cols: cols, into: dy)
            let expected = indices.flatMap { i in (0..<cols).map { Double(x[Int(i) * cols + $0]) } }
            #expect(mismatch(device.read(dy), expected, rtol: 0, atol: 0) == nil, "\(selector) cols=\(cols)")
            #expect(paddingIntact(device, store, dy))
        }
        // An index outside the source gives a zero row rather than reading out of bounds.
        let x = try device.makeBuffer([Float(1), 2, 3, 4])
        let indices = try device.makeBuffer([Int32(1), -1, 2, 0])
        let y = try device.makeBuffer(count: 8, dtype: .float32)
        device.gatherRows(x.whole, indices: indices.whole, cols: 2, into: y.whole)
        #expect(device.read(y.whole) == [3, 4, 0, 0, 0, 0, 1, 2])
        try device.checkHealth()
    }

    @Test(arguments: TestDevices.selectors)
    func accumulateRowSumsAddsRowsAndWeightedTotal(selector: String) throws {
        let device = try TestDevices.device(selector)
        var rng = TestRandom(seed: 31)
        for (rows, cols) in [(1, 1), (2, 17), (3, 128), (4, 1000), (3, 257)] {
            let x = rng.array(rows * cols, -2, 1), weights = rng.array(rows, -1, 2)
            let y0 = rng.array(rows), total0 = rng.array(1)
            let (_, dx) = try paddedBuffer(device, x, offset: 5)
            // y and total share one buffer, beside NaN guards
            let out = try device.makeBuffer([.nan] + y0 + [.nan] + total0 + [.nan])
            device.accumulateRowSums(dx, rows: rows, cols: cols, weights: weights, into: out.slice(1, rows),
                                     total: out.slice(rows + 2, 1))
            let result = device.read(out.whole)
            #expect(result[0].isNaN && result[rows + 1].isNaN && result[rows + 3].isNaN, "\(selector) writes outside")
            let sums = referenceReduce(x, rows: rows, cols: cols, axis: .columns, op: .sum, scale: 1, y0: nil)
            #expect(mismatch(Array(result[1...rows]), zip(y0, sums).map { Double($0) + $1 }) == nil,
                    "\(selector) row sums \(rows)x\(cols)")
            let weighted = zip(weights, sums).reduce(Double(total0[0])) { $0 + Double($1.0) * $1.1 }
            #expect(mismatch([result[rows + 2]], [weighted]) == nil, "\(selector) total \(rows)x\(cols)")
        }
    }
}
