@testable import Compute
import Foundation
import Testing
import TestSupport

/// Double references for the Gaussian latent.
enum VAEReference {
    static func z(_ mu: [Double], _ logvar: [Double], _ eps: [Double]) -> [Double] {
        mu.indices.map { mu[$0] + exp(0.5 * logvar[$0]) * eps[$0] }
    }

    /// (dμ, dlogvar) of Σ dz·z.
    static func reparameterizeBackward(_ dz: [Double], _ logvar: [Double], _ eps: [Double]) -> ([Double], [Double]) {
        (dz, dz.indices.map { dz[$0] * eps[$0] * 0.5 * exp(0.5 * logvar[$0]) })
    }

    static func kl(_ mu: Double, _ logvar: Double) -> Double { -0.5 * (1 + logvar - mu * mu - exp(logvar)) }

    static func perSample(_ mu: [Double], _ logvar: [Double], batch: Int, dim: Int) -> [Double] {
        (0..<batch).map { b in (0..<dim).reduce(0.0) { $0 + kl(mu[b * dim + $1], logvar[b * dim + $1]) } }
    }

    static func perDimension(_ mu: [Double], _ logvar: [Double], batch: Int, dim: Int) -> [Double] {
        (0..<dim).map { j in (0..<batch).reduce(0.0) { $0 + kl(mu[$1 * dim + j], logvar[$1 * dim + j]) } / Double(batch) }
    }

    /// (dμ, dlogvar) of weight·Σ KL, each dimension's entries times mask[j].
    static func klBackward(_ mu: [Double], _ logvar: [Double], dim: Int, weight: Double,
                           mask: [Double]?) -> ([Double], [Double]) {
        let m = mu.indices.map { weight * (mask?[$0 % dim] ?? 1) }
        return (mu.indices.map { m[$0] * mu[$0] }, logvar.indices.map { m[$0] * 0.5 * (exp(logvar[$0]) - 1) })
    }
}

@Suite struct VAETests {
    @Test(arguments: TestDevices.selectors)
    func reparameterizeDrawsTheNormalStream(selector: String) throws {
        let device = try TestDevices.device(selector)
        var rng = TestRandom(seed: 21)
        let random = RandomStream(seed: 5, stream: 12)
        for n in [1, 2, 7, 300] {
            let mu = rng.array(n), logvar = rng.array(n, -3, 2)
            let store = try device.makeBuffer(rng.array(1) + mu + logvar)
            let eps = try device.makeBuffer([Float](repeating: .nan, count: n + 2))
            let z = try device.makeBuffer(count: n, dtype: .float32)
            device.reparameterize(mu: store.slice(1, n), logvar: store.slice(1 + n, n), eps: eps.slice(1, n),
                                  into: z.whole, random: random)
            let drawn = device.read(eps.whole)
            #expect(drawn[0].isNaN && drawn[n + 1].isNaN)
            let e = Array(drawn[1...n])
            #expect(mismatch(e, (0..<n).map { Double(Philox.normal(random, $0)) }, rtol: 1e-5, atol: 1e-5) == nil,
                    "\(selector) eps n=\(n)")
            // The same draws as fillNormal.
            let filled = try device.makeBuffer(count: n, dtype: .float32)
            device.fillNormal(filled.whole, mean: 0, std: 1, random: random)
            #expect(exactMismatch(device.read(filled.whole), e) == nil, "\(selector) eps differs from fillNormal")
            let expected = VAEReference.z(doubles(mu), doubles(logvar), doubles(e))
            #expect(mismatch(device.read(z.whole), expected) == nil, "\(selector) z n=\(n)")
        }
    }

    @Test(arguments: TestDevices.selectors, [false, true])
    func reparameterizeBackwardMatchesFiniteDifferences(selector: String, accumulate: Bool) throws {
        let device = try TestDevices.device(selector)
        var rng = TestRandom(seed: 22)
        let n = 203
        let mu = doubles(rng.array(n)), logvar = doubles(rng.array(n, -2, 2)), eps = rng.array(n, -2, 2)
        let dz = rng.array(n), oldMu = rng.array(n), oldLogvar = rng.array(n)
        let (refMu, refLogvar) = VAEReference.reparameterizeBackward(doubles(dz), logvar, doubles(eps))
        // The reference gradient is the derivative of Σ dz·z(μ, logvar).
        let loss = { (mu: [Double], logvar: [Double]) in
            zip(doubles(dz), VAEReference.z(mu, logvar, doubles(eps))).reduce(0.0) { $0 + $1.0 * $1.1 }
        }
        #expect(mismatchDoubles(refMu, centralDifferenceGradient(at: mu) { loss($0, logvar) }, rtol: 1e-6, atol: 1e-7) == nil)
        #expect(mismatchDoubles(refLogvar, centralDifferenceGradient(at: logvar) { loss(mu, $0) }, rtol: 1e-6, atol: 1e-7) == nil)

        let dmu = try device.makeBuffer(oldMu), dlogvar = try device.makeBuffer(oldLogvar)
        device.reparameterizeBackward(try device.makeBuffer(dz).whole, logvar: try device.makeBuffer(logvar.map(Float.init)).whole,
                                      eps: try device.makeBuffer(eps).whole, dmu: dmu.whole, dlogvar: dlogvar.whole,
                                      accumulate: accumulate)
        let base = { (old: [Float], grad: [Double]) in accumulate ? zip(old, grad).map { Double($0) + $1 } : grad }
        #expect(mismatch(device.read(dmu.whole), base(oldMu, refMu)) == nil, "\(selector) dmu")
        #expect(mismatch(device.read(dlogvar.whole), base(oldLogvar, refLogvar)) == nil, "\(selector) dlogvar")
    }

    @Test(arguments: TestDevices.selectors, [false, true])
    func gaussianLatentMatchesReference(selector: String, addsToSums: Bool) throws {
        let device = try TestDevices.device(selector)
        var rng = TestRandom(seed: 23)
        let random = RandomStream(seed: 9, stream: 3)
        // one work group on OpenCL (up to 8,192 elements), several, dimensions wider than a work group, one column
        for (batch, dim) in [(1, 1), (3, 2), (257, 5), (7, 300), (130, 65), (300, 65), (2, 9000), (9000, 1)] {
            let n = batch * dim
            let mu = rng.array(n, -2, 2), logvar = rng.array(n, -3, 2)
            let store = try device.makeBuffer(rng.array(2) + mu + logvar)
            let noise = try device.makeBuffer([Float](repeating: .nan, count: 2 * n + 2))
            let out = try device.makeBuffer([Float](repeating: .nan, count: batch + dim + 1))
            let oldSums = rng.array(dim)
            let sums = try device.makeBuffer([.nan] + oldSums + [.nan])
            device.gaussianLatent(mu: store.slice(2, n), logvar: store.slice(2 + n, n), batch: batch, dim: dim,
                                  eps: noise.slice(1, n), into: noise.slice(1 + n, n), random: random,
                                  klPerSample: out.slice(0, batch), klPerDimension: out.slice(batch + 1, dim),
                                  klDimensionSums: addsToSums ? sums.slice(1, dim) : nil)
            let drawn = device.read(noise.whole), result = device.read(out.whole), added = device.read(sums.whole)
            #expect(drawn[0].isNaN && drawn[2 * n + 1].isNaN && result[batch].isNaN, "\(selector) writes outside")
            #expect(added[0].isNaN && added[dim + 1].isNaN, "\(selector) sums outside")
            let eps = Array(drawn[1...n])
            let filled = try device.makeBuffer(count: n, dtype: .float32)
            device.fillNormal(filled.whole, mean: 0, std: 1, random: random)
            #expect(exactMismatch(device.read(filled.whole), eps) == nil, "\(selector) eps differs from fillNormal \(batch)x\(dim)")
            let (m, lv) = (doubles(mu), doubles(logvar))
            #expect(mismatch(Array(drawn[(n + 1)...(2 * n)]), VAEReference.z(m, lv, doubles(eps))) == nil,
                    "\(selector) z \(batch)x\(dim)")
            #expect(mismatch(Array(result[..<batch]), VAEReference.perSample(m, lv, batch: batch, dim: dim)) == nil,
                    "\(selector) per sample \(batch)x\(dim)")
            let perDimension = VAEReference.perDimension(m, lv, batch: batch, dim: dim)
            #expect(mismatch(Array(result[(batch + 1)...]), perDimension) == nil, "\(selector) per dimension \(batch)x\(dim)")
            let expectedSums = addsToSums ? zip(oldSums, perDimension).map { Double($0) + $1 } : doubles(oldSums)
            #expect(mismatch(Array(added[1...dim]), expectedSums) == nil, "\(selector) sums \(batch)x\(dim)")
        }
    }

    @Test(arguments: TestDevices.selectors)
    func klIsZeroAtThePriorAndAccurateNearIt(selector: String) throws {
        let device = try TestDevices.device(selector)
        let (batch, dim) = (4, 3)
        let mu: [Float] = [0, 0, 0, 1e-3, -1e-3, 0, 0, 0, 0, 0, 0, 0]
        let logvar: [Float] = [0, 0, 0, 0, 0, 1e-3, -1e-3, 2e-4, 0, 0, 0, 0]
        let perSample = try device.makeBuffer(count: batch, dtype: .float32)
        let perDimension = try device.makeBuffer(count: dim, dtype: .float32)
        let noise = try device.makeBuffer(count: 2 * batch * dim, dtype: .float32)
        device.gaussianLatent(mu: try device.makeBuffer(mu).whole, logvar: try device.makeBuffer(logvar).whole,
                              batch: batch, dim: dim, eps: noise.slice(0, batch * dim), into: noise.slice(batch * dim, batch * dim),
                              random: RandomStream(seed: 1, stream: 1), klPerSample: perSample.whole,
                              klPerDimension: perDimension.whole, klDimensionSums: nil)
        let (m, lv) = (doubles(mu), doubles(logvar))
        #expect(mismatch(device.read(perSample.whole), VAEReference.perSample(m, lv, batch: batch, dim: dim),
                         rtol: 1e-3, atol: 1e-12) == nil)
        #expect(mismatch(device.read(perDimension.whole), VAEReference.perDimension(m, lv, batch: batch, dim: dim),
                         rtol: 1e-3, atol: 1e-12) == nil)
    }

    @Test(arguments: TestDevices.selectors, [false, true])
    func gaussianLatentBackwardMatchesFiniteDifferences(selector: String, masked: Bool) throws {
        let device = try TestDevices.device(selector)
        var rng = TestRandom(seed: 25)
        let (batch, dim) = (9, 70)
        let n = batch * dim
        let mu = rng.array(n, -2, 2), logvar = rng.array(n, -2, 2), eps = rng.array(n, -2, 2), dz = rng.array(n)
        let mask: [Float]? = masked ? (0..<dim).map { [1, 0, 0.5][$0 % 3] } : nil
        let weight = 0.7
        // The reference is the gradient of Σ dz·z + weight·Σ KL, the mask scaling each dimension's KL part.
        let (dzMu, dzLogvar) = VAEReference.reparameterizeBackward(doubles(dz), doubles(logvar), doubles(eps))
        let (klMu, klLogvar) = VAEReference.klBackward(doubles(mu), doubles(logvar), dim: dim, weight: weight,
                                                       mask: mask.map(doubles))
        let refMu = zip(dzMu, klMu).map(+), refLogvar = zip(dzLogvar, klLogvar).map(+)
        let maskAt = { (i: Int) in Double(mask?[i % dim] ?? 1) }
        let loss = { (m: [Double], lv: [Double]) in
            let z = VAEReference.z(m, lv, doubles(eps))
            return m.indices.reduce(0.0) { $0 + Double(dz[$1]) * z[$1] + weight * maskAt($1) * VAEReference.kl(m[$1], lv[$1]) }
        }
        #expect(mismatchDoubles(refMu, centralDifferenceGradient(at: doubles(mu)) { loss($0, doubles(logvar)) },
                                rtol: 1e-5, atol: 1e-6) == nil)
        #expect(mismatchDoubles(refLogvar, centralDifferenceGradient(at: doubles(logvar)) { loss(doubles(mu), $0) },
                                rtol: 1e-5, atol: 1e-6) == nil)

        // Operands at offsets into larger buffers; the result overwrites what is there.
        let inputs = try device.makeBuffer(rng.array(3) + dz + mu + logvar + eps)
        let grads = try device.makeBuffer([.nan] + rng.array(2 * n) + [.nan])
        let maskBuffer = try mask.map { try device.makeBuffer([9] + $0) }
        device.gaussianLatentBackward(inputs.slice(3, n), mu: inputs.slice(3 + n, n), logvar: inputs.slice(3 + 2 * n, n),
                                      eps: inputs.slice(3 + 3 * n, n), batch: batch, dim: dim, klWeight: Float(weight),
                                      dimensionMask: maskBuffer?.slice(1, dim), dmu: grads.slice(1, n),
                                      dlogvar: grads.slice(1 + n, n))
        let result = device.read(grads.whole)
        #expect(result[0].isNaN && result[2 * n + 1].isNaN, "\(selector) writes outside")
        #expect(mismatch(Array(result[1...n]), refMu) == nil, "\(selector) dmu")
        #expect(mismatch(Array(result[(1 + n)...(2 * n)]), refLogvar) == nil, "\(selector) dlogvar")
    }

    @Test(arguments: TestDevices.selectors, [false, true])
    func klBackwardMatchesFiniteDifferences(selector: String, masked: Bool) throws {
        let device = try TestDevices.device(selector)
        var rng = TestRandom(seed: 24)
        let (batch, dim) = (9, 5)
        let n = batch * dim
        let mu = rng.array(n, -2, 2), logvar = rng.array(n, -2, 2)
        let mask: [Float]? = masked ? [1, 0, 1, 0.5, 0] : nil
        let weight = 0.7
        let (refMu, refLogvar) = VAEReference.klBackward(doubles(mu), doubles(logvar), dim: dim, weight: weight,
                                                         mask: mask.map(doubles))
        // Unmasked, the reference is the gradient of weight·Σ KL; the mask scales each dimension's entries.
        let total = { (m: [Double], lv: [Double]) in
            weight * VAEReference.perSample(m, lv, batch: batch, dim: dim).reduce(0, +)
        }
        let scale = { (g: [Double]) in g.indices.map { g[$0] * Double(mask?[$0 % dim] ?? 1) } }
        #expect(mismatchDoubles(refMu, scale(centralDifferenceGradient(at: doubles(mu)) { total($0, doubles(logvar)) }),
                                rtol: 1e-6, atol: 1e-7) == nil)
        #expect(mismatchDoubles(refLogvar, scale(centralDifferenceGradient(at: doubles(logvar)) { total(doubles(mu), $0) }),
                                rtol: 1e-6, atol: 1e-7) == nil)

        // klBackward adds to what is there.
        let oldMu = rng.array(n), oldLogvar = rng.array(n)
        let store = try device.makeBuffer(rng.array(1) + oldMu + oldLogvar)
        let maskBuffer = try mask.map { try device.makeBuffer([9] + $0) }
        device.klBackward(mu: try device.makeBuffer(mu).whole, logvar: try device.makeBuffer(logvar).whole,
                          batch: batch, dim: dim, weight: Float(weight), dimensionMask: maskBuffer?.slice(1, dim),
                          dmu: store.slice(1, n), dlogvar: store.slice(1 + n, n))
        let result = device.read(store.whole)
        #expect(mismatch(Array(result[1...n]), zip(oldMu, refMu).map { Double($0) + $1 }) == nil, "\(selector) dmu")
        #expect(mismatch(Array(result[(1 + n)...]), zip(oldLogvar, refLogvar).map { Double($0) + $1 }) == nil,
                "\(selector) dlogvar")
    }
}
