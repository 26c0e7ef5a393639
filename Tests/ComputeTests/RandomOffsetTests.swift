@testable import Compute
import Testing
import TestSupport

/// A stream's element offset: a view drawn with ``RandomStream/advanced(by:)`` draws exactly the elements it holds
/// inside the whole fill, bit for bit, on every device — so rows r..<r+k of a batch (a data-parallel rank's slice)
/// draw what they draw in the whole batch.
@Suite struct RandomOffsetTests {
    /// (start, count) windows of a 4,099-element fill: every start modulo 4 and 2, short and long windows, the end.
    static let windows = [(0, 4099), (1, 1), (1, 6), (2, 5), (3, 1000), (5, 3), (6, 2), (7, 4092), (513, 1024),
                          (4098, 1)]
    static let total = 4099

    /// The fill of the whole buffer, then each window filled alone (inside sentinels) with the stream advanced to
    /// its start: the window must equal its part of the whole and leave the sentinels alone.
    static func check(_ device: any Device, _ name: String, fill: (BufferSlice, BufferSlice, RandomStream) -> Void,
                      input: [Float]? = nil) throws {
        let random = RandomStream(seed: 0x0FF5_E7_5EED, stream: 1234)
        let whole = try device.makeBuffer(count: total, dtype: .float32)
        let source = try device.makeBuffer(count: total, dtype: .float32)
        if let input { device.write(input, to: source.whole) }
        fill(source.whole, whole.whole, random)
        let expected = device.read(whole.whole)
        for (start, count) in windows {
            let padded = try device.makeBuffer(count: count + 2, dtype: .float32)
            device.write([Float](repeating: -7, count: count + 2), to: padded.whole)
            fill(source.slice(start, count), padded.slice(1, count), random.advanced(by: start))
            let got = device.read(padded.whole)
            #expect(got.first == -7 && got.last == -7, "\(name) window (\(start), \(count)) wrote outside its view")
            let same = zip(got[1...count], expected[start..<start + count]).allSatisfy { $0.bitPattern == $1.bitPattern }
            #expect(same, "\(device.info.selector) \(name) window (\(start), \(count)) differs from the whole fill")
        }
        try device.checkHealth()
    }

    @Test func advancingAddsToTheOffset() {
        let random = RandomStream(seed: 1, stream: 2).advanced(by: 5).advanced(by: 7)
        #expect(random == RandomStream(seed: 1, stream: 2, offset: 12))
        #expect(RandomStream(seed: 1, stream: 2) == RandomStream(seed: 1, stream: 2, offset: 0))
    }

    @Test(arguments: TestDevices.selectors)
    func fillsAndCorruptionsDrawTheirSliceOfTheWhole(selector: String) throws {
        let device = try TestDevices.device(selector)
        try Self.check(device, "uniform") { _, x, r in device.fillUniform(x, low: -2, high: 3, random: r) }
        try Self.check(device, "normal") { _, x, r in device.fillNormal(x, mean: 0.5, std: 2, random: r) }
        try Self.check(device, "bernoulli") { _, x, r in device.fillBernoulli(x, keep: 0.7, scale: 1 / 0.7, random: r) }
        let input = (0..<Self.total).map { Float($0 % 17) / 16 }
        let corruptions: [Corruption] = [.gaussian(sigma: 0.3), .masking(probability: 0.4),
                                         .saltAndPepper(probability: 0.2, low: 0, high: 1)]
        for corruption in corruptions {
            try Self.check(device, "\(corruption)", fill: { x, y, r in device.corrupt(x, into: y, corruption: corruption, random: r) },
                           input: input)
        }
    }

    /// The VAE's draws: reparameterize, and the fused latent pass over rows r..<r+k of a batch (its noise, so its
    /// z) against the same rows of the whole batch's pass.
    @Test(arguments: TestDevices.selectors)
    func latentRowsDrawTheirSliceOfTheBatch(selector: String) throws {
        let device = try TestDevices.device(selector)
        let random = RandomStream(seed: 42, stream: 7 << 16 | 3)
        let batch = 37, dim = 5, n = batch * dim
        let muValues = (0..<n).map { Float(($0 * 7) % 11) / 10 - 0.5 }
        let logvarValues = (0..<n).map { Float(($0 * 5) % 13) / 13 - 0.5 }
        func buffers(_ count: Int) throws -> [Buffer] { try (0..<6).map { _ in try device.makeBuffer(count: count, dtype: .float32) } }
        // the whole batch
        let all = try buffers(n)
        device.write(muValues, to: all[0].whole)
        device.write(logvarValues, to: all[1].whole)
        let klRows = try device.makeBuffer(count: batch, dtype: .float32), klColumns = try device.makeBuffer(count: dim, dtype: .float32)
        device.gaussianLatent(mu: all[0].whole, logvar: all[1].whole, batch: batch, dim: dim, eps: all[2].whole, into: all[3].whole,
                              random: random, klPerSample: klRows.whole, klPerDimension: klColumns.whole, klDimensionSums: nil)
        device.reparameterize(mu: all[0].whole, logvar: all[1].whole, eps: all[4].whole, into: all[5].whole, random: random)
        let wholeEps = device.read(all[2].whole), wholeZ = device.read(all[3].whole)
        let reparameterized = device.read(all[5].whole)
        #expect(reparameterized == wholeZ)
        for (row, rows) in [(0, 1), (3, 4), (10, 27), (36, 1)] {
            let part = try buffers(rows * dim)
            device.write(Array(muValues[row * dim..<(row + rows) * dim]), to: part[0].whole)
            device.write(Array(logvarValues[row * dim..<(row + rows) * dim]), to: part[1].whole)
            let partRows = try device.makeBuffer(count: rows, dtype: .float32)
            let partColumns = try device.makeBuffer(count: dim, dtype: .float32)
            let slice = random.advanced(by: row * dim)
            device.gaussianLatent(mu: part[0].whole, logvar: part[1].whole, batch: rows, dim: dim, eps: part[2].whole,
                                  into: part[3].whole, random: slice, klPerSample: partRows.whole,
                                  klPerDimension: partColumns.whole, klDimensionSums: nil)
            device.reparameterize(mu: part[0].whole, logvar: part[1].whole, eps: part[4].whole, into: part[5].whole, random: slice)
            let range = row * dim..<(row + rows) * dim
            #expect(device.read(part[2].whole) == Array(wholeEps[range]), "\(selector) eps of rows \(row)..<\(row + rows)")
            #expect(device.read(part[3].whole) == Array(wholeZ[range]), "\(selector) z of rows \(row)..<\(row + rows)")
            #expect(device.read(part[5].whole) == Array(wholeZ[range]), "\(selector) reparameterized rows \(row)..<\(row + rows)")
        }
        try device.checkHealth()
    }
}
