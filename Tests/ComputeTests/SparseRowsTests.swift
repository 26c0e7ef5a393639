import Compute
import Testing
import TestSupport

/// The row-sparse products (``SparseRowPrimitives``) against double-precision products of the dense form, on every
/// device that offers them.
@Suite struct SparseRowsTests {
    static var devices: [String] { TestDevices.selectors.filter { (try? TestDevices.device($0)) is any SparseRowPrimitives } }

    @Test(arguments: devices)
    func productsThroughCompactedRowsEqualDenseProducts(selector: String) throws {
        let device = try TestDevices.device(selector)
        let sparse = try #require(device as? any SparseRowPrimitives)
        // 7 rows of 50 columns with 0…4 non-zero entries (one row full at the capacity, one empty), a table of
        // 50 rows of width 19 (not a multiple of the 8 lanes)
        let rows = 7, cols = 50, capacity = 4, width = 19
        var rng = TestRandom(seed: 8)
        var z = [Float](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            for t in 0..<(r % 5) { z[r * cols + (r * 7 + t * 11) % cols] = Float(t + 1) * (r % 2 == 0 ? 1 : -0.5) }
        }
        let table = rng.array(cols * width, -1, 1), x = rng.array(rows * width, -1, 1), prior = rng.array(rows * width, -1, 1)
        let zb = try device.makeBuffer(z), tb = try device.makeBuffer(table), xb = try device.makeBuffer(x)
        let indices = try device.makeBuffer(count: rows * capacity, dtype: .int32)
        let values = try device.makeBuffer(count: rows * capacity, dtype: .float32)
        sparse.compactRows(zb.whole, rows: rows, cols: cols, capacity: capacity, indices: indices.whole, values: values.whole)

        // the dense form comes back
        let dense = try device.makeBuffer(count: rows * cols, dtype: .float32)
        sparse.expandRows(indices: indices.whole, values: values.whole, rows: rows, capacity: capacity, cols: cols,
                          into: dense.whole, accumulate: false)
        #expect(device.read(dense.whole) == z)

        // y = 0.5·z·table + 2·prior
        let y = try device.makeBuffer(prior)
        sparse.gatheredRowsProduct(indices: indices.whole, values: values.whole, rows: rows, capacity: capacity,
                                   table: tb.whole, width: width, into: y.whole, alpha: 0.5, beta: 2)
        var expected = [Double](repeating: 0, count: rows * width)
        for r in 0..<rows {
            for c in 0..<width {
                expected[r * width + c] = 2 * Double(prior[r * width + c])
                    + 0.5 * (0..<cols).reduce(0) { $0 + Double(z[r * cols + $1]) * Double(table[$1 * width + c]) }
            }
        }
        #expect(mismatch(device.read(y.whole), expected) == nil)

        // dots at the entries: (x·tableᵀ) where z ≠ 0
        let dots = try device.makeBuffer(count: rows * capacity, dtype: .float32)
        sparse.gatheredRowsDots(xb.whole, indices: indices.whole, values: values.whole, rows: rows, capacity: capacity,
                                table: tb.whole, width: width, into: dots.whole)
        sparse.expandRows(indices: indices.whole, values: dots.whole, rows: rows, capacity: capacity, cols: cols,
                          into: dense.whole, accumulate: false)
        let product = (0..<(rows * cols)).map { i -> Double in
            let r = i / cols, j = i % cols
            guard z[i] != 0 else { return 0 }
            return (0..<width).reduce(0) { $0 + Double(x[r * width + $1]) * Double(table[j * width + $1]) }
        }
        #expect(mismatch(device.read(dense.whole), product) == nil)

        // table += zᵀ·x, bias += column sums of z
        let grown = try device.makeBuffer(table), bias = try device.makeBuffer([Float](repeating: 1, count: cols))
        sparse.scatteredRowsProduct(indices: indices.whole, values: values.whole, rows: rows, capacity: capacity,
                                    x: xb.whole, width: width, into: grown.whole, tableRows: cols, bias: bias.whole)
        let scattered = (0..<(cols * width)).map { i -> Double in
            let j = i / width, c = i % width
            return Double(table[i]) + (0..<rows).reduce(0) { $0 + Double(z[$1 * cols + j]) * Double(x[$1 * width + c]) }
        }
        #expect(mismatch(device.read(grown.whole), scattered) == nil)
        #expect(mismatch(device.read(bias.whole), (0..<cols).map { j in 1 + (0..<rows).reduce(0) { $0 + Double(z[$1 * cols + j]) } }) == nil)

        // transposes, written and added
        let t = try device.makeBuffer([Float](repeating: 1, count: cols * width))
        sparse.transpose(tb.whole, rows: cols, cols: width, into: t.whole, accumulate: true)
        let tr = device.read(t.whole)
        for j in 0..<cols { for c in 0..<width { #expect(tr[c * cols + j] == 1 + table[j * width + c]) } }
        sparse.transpose(t.whole, rows: width, cols: cols, into: grown.whole, accumulate: false)
        #expect(device.read(grown.whole) == tr.indices.map { i in tr[(i % width) * cols + i / width] })
    }

    /// A row with more non-zero entries than the capacity keeps its first ones.
    @Test func compactionKeepsTheFirstEntriesOfAFullRow() throws {
        let device = try TestDevices.device("cpu")
        let sparse = try #require(device as? any SparseRowPrimitives)
        let z = try device.makeBuffer([0, 3, 0, 4, 5, 6] as [Float])
        let indices = try device.makeBuffer(count: 2, dtype: .int32), values = try device.makeBuffer(count: 2, dtype: .float32)
        sparse.compactRows(z.whole, rows: 1, cols: 6, capacity: 2, indices: indices.whole, values: values.whole)
        var ints = [Int32](repeating: 0, count: 2)
        ints.withUnsafeMutableBufferPointer { device.read(indices.whole, into: $0) }
        #expect(ints == [1, 3] && device.read(values.whole) == [3, 4])
    }
}
