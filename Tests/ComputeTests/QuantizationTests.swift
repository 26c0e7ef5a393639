import Compute
import Testing
import TestSupport

/// All squared distances ‖z_i − e_j‖² in double precision, row i at [i·k ..< (i+1)·k].
func referenceDistances(_ z: [Float], _ codebook: [Float], n: Int, k: Int, d: Int) -> [Double] {
    var out = [Double](repeating: 0, count: n * k)
    for i in 0..<n {
        for j in 0..<k {
            var s = 0.0
            for p in 0..<d {
                let t = Double(z[i * d + p]) - Double(codebook[j * d + p])
                s += t * t
            }
            out[i * k + j] = s
        }
    }
    return out
}

/// The brute-force argmin with ties to the lower index.
func referenceCodes(_ distances: [Double], n: Int, k: Int) -> [Int] {
    (0..<n).map { i in
        var best = 0
        for j in 1..<k where distances[i * k + j] < distances[i * k + best] { best = j }
        return best
    }
}

/// Double-precision y (+)= scatter of the rows of x, and the counts.
func referenceScatter(_ x: [Float], _ indices: [Int32], cols: Int, rows: Int, y: [Float], counts: [Float],
                      accumulate: Bool) -> (y: [Double], counts: [Double]) {
    var out = accumulate ? doubles(y) : [Double](repeating: 0, count: rows * cols)
    var hits = accumulate ? doubles(counts) : [Double](repeating: 0, count: rows)
    for (i, index) in indices.enumerated() where index >= 0 && Int(index) < rows {
        for c in 0..<cols { out[Int(index) * cols + c] += Double(x[i * cols + c]) }
        hits[Int(index)] += 1
    }
    return (out, hits)
}

@Suite struct QuantizationTests {
    /// Random data: the chosen code's distance must be the minimum (within float tolerance), it must be the
    /// brute-force argmin wherever the runner-up is clearly farther, and `distances` must hold its distance.
    @Test(arguments: TestDevices.selectors, [(1000, 512, 64), (1, 1, 1), (3, 5, 2), (70, 33, 130), (5, 40, 300),
                                             (129, 64, 8)])
    func nearestCodeMatchesBruteForce(selector: String, shape: (n: Int, k: Int, d: Int)) throws {
        let device = try TestDevices.device(selector)
        let (n, k, d) = shape
        var rng = TestRandom(seed: UInt64(n * 31 + k * 7 + d))
        let z = rng.array(n * d), codebook = rng.array(k * d)
        let zStore = try device.makeBuffer([Float](repeating: 0, count: 3) + z)
        let book = try device.makeBuffer(codebook)
        let codes = try device.makeBuffer([Int32](repeating: -1, count: n + 1))
        let dist = try device.makeBuffer(count: n, dtype: .float32)
        device.nearestCode(zStore.slice(3, n * d), codebook: book.whole, n: n, k: k, d: d,
                           codes: codes.slice(1, n), distances: dist.whole)
        let got = device.readInts(codes.whole), gotDistances = device.read(dist.whole)
        #expect(got[0] == -1)
        let all = referenceDistances(z, codebook, n: n, k: k, d: d)
        let expected = referenceCodes(all, n: n, k: k)
        var chosen: [Double] = []
        for i in 0..<n {
            let code = Int(got[i + 1])
            try #require((0..<k).contains(code), "\(selector) row \(i): code \(code)")
            let row = all[(i * k)..<((i + 1) * k)]
            let best = row.min()!
            #expect(row[i * k + code] <= best * (1 + 1e-5) + 1e-6, "\(selector) row \(i) is not the nearest")
            let runnerUp = row.enumerated().filter { $0.offset != expected[i] }.map(\.element).min() ?? .infinity
            if runnerUp > best * (1 + 1e-4) + 1e-5 {
                #expect(code == expected[i], "\(selector) row \(i): \(code) vs \(expected[i])")
            }
            chosen.append(row[i * k + code])
        }
        #expect(mismatch(gotDistances, chosen, rtol: 1e-5, atol: 1e-5) == nil, "\(selector) distances")
    }

    /// Exact ties: small integers (and halves) make every distance exact in float, so ties are real ties
    /// and the lower index must win; the second half of the codebook repeats the first. Sizes cover the
    /// CPU's direct search and its sgemm expansion.
    @Test(arguments: TestDevices.selectors, [(5, 16), (400, 256)])
    func tiesGoToTheLowerIndex(selector: String, shape: (n: Int, k: Int)) throws {
        let device = try TestDevices.device(selector)
        let (n, k, d) = (shape.n, shape.k, 16)
        var rng = TestRandom(seed: 21)
        let half = (0..<(k / 2 * d)).map { _ in Float(rng.next() % 3) }
        let codebook = half + half
        let z = (0..<(n * d)).map { _ in Float(rng.next() % 5) / 2 }
        let codes = try device.makeBuffer(count: n, dtype: .int32)
        device.nearestCode(try device.makeBuffer(z).whole, codebook: try device.makeBuffer(codebook).whole,
                           n: n, k: k, d: d, codes: codes.whole, distances: nil)
        let expected = referenceCodes(referenceDistances(z, codebook, n: n, k: k, d: d), n: n, k: k)
        #expect(device.readInts(codes.whole).map(Int.init) == expected, "\(selector)")
        #expect(expected.allSatisfy { $0 < k / 2 })
    }

    @Test(arguments: TestDevices.selectors)
    func equidistantCodesPickTheFirst(selector: String) throws {
        let device = try TestDevices.device(selector)
        // z = 0 is at distance 1 from each unit vector, and at distance 4 from 2·e₀.
        let codebook: [Float] = [2, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0]
        let codes = try device.makeBuffer(count: 2, dtype: .int32), dist = try device.makeBuffer(count: 2, dtype: .float32)
        device.nearestCode(try device.makeBuffer([0, 0, 0, 0, 1, 1, 0, 0] as [Float]).whole,
                           codebook: try device.makeBuffer(codebook).whole, n: 2, k: 4, d: 4,
                           codes: codes.whole, distances: dist.whole)
        #expect(device.readInts(codes.whole) == [1, 1])
        #expect(device.read(dist.whole) == [1, 1])
    }

    @Test(arguments: TestDevices.selectors, [(150, 37, 11), (1, 1, 1), (1000, 64, 512), (70, 3, 2)])
    func scatterAddRowsSumsAndCounts(selector: String, shape: (n: Int, cols: Int, rows: Int)) throws {
        let device = try TestDevices.device(selector)
        let (n, cols, rows) = shape
        var rng = TestRandom(seed: UInt64(n + cols + rows))
        let x = rng.array(n * cols)
        // Out-of-range indices (−1 and `rows`) contribute nothing.
        let indices = (0..<n).map { i in i % 17 == 5 ? (i % 2 == 0 ? -1 : Int32(rows)) : Int32(rng.next() % UInt64(rows)) }
        let y0 = rng.array(rows * cols), counts0 = rng.array(rows, 0, 5)
        let xStore = try device.makeBuffer([Float](repeating: 9, count: 2) + x)
        let index = try device.makeBuffer(indices)
        let yStore = try device.makeBuffer([Float](repeating: .nan, count: 1) + y0)
        let counts = try device.makeBuffer(counts0)
        let y = yStore.slice(1, rows * cols), xs = xStore.slice(2, n * cols)

        device.scatterAddRows(xs, indices: index.whole, n: n, cols: cols, into: y, rows: rows,
                              counts: counts.whole, accumulate: true)
        var expected = referenceScatter(x, indices, cols: cols, rows: rows, y: y0, counts: counts0, accumulate: true)
        #expect(mismatch(device.read(y), expected.y) == nil, "\(selector) accumulate")
        #expect(mismatch(device.read(counts.whole), expected.counts) == nil, "\(selector) counts accumulate")

        device.fill(y, with: .nan)
        device.scatterAddRows(xs, indices: index.whole, n: n, cols: cols, into: y, rows: rows,
                              counts: counts.whole, accumulate: false)
        expected = referenceScatter(x, indices, cols: cols, rows: rows, y: [], counts: [], accumulate: false)
        let first = device.read(y)
        #expect(mismatch(first, expected.y) == nil, "\(selector) overwrite")
        #expect(device.read(counts.whole) == expected.counts.map(Float.init), "\(selector) counts")
        #expect(device.read(yStore.slice(0, 1))[0].isNaN, "writes stay inside the view")

        // Deterministic: the same call gives the same bits, with or without counts.
        device.scatterAddRows(xs, indices: index.whole, n: n, cols: cols, into: y, rows: rows,
                              counts: nil, accumulate: false)
        #expect(device.read(y) == first)
    }
}
