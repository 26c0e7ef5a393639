@testable import Compute
import Foundation
import Testing
import TestSupport

/// Mean and (population) standard deviation in Double.
func sampleMoments(_ values: [Float]) -> (mean: Double, std: Double) {
    let n = Double(values.count)
    let mean = values.reduce(0.0) { $0 + Double($1) } / n
    let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
    return (mean, variance.squareRoot())
}

@Suite struct RandomTests {
    /// Known-answer vectors of philox4x32_10 from Random123's kat_vectors.
    @Test func philoxMatchesRandom123KnownAnswers() {
        let cases: [((UInt32, UInt32, UInt32, UInt32), (UInt32, UInt32), (UInt32, UInt32, UInt32, UInt32))] = [
            ((0, 0, 0, 0), (0, 0), (0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8)),
            ((0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff), (0xffff_ffff, 0xffff_ffff),
             (0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd)),
            ((0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344), (0xa409_3822, 0x299f_31d0),
             (0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1)),
        ]
        for (counter, key, expected) in cases {
            let r = Philox.block(counter, key: key)
            #expect([r.0, r.1, r.2, r.3] == [expected.0, expected.1, expected.2, expected.3])
        }
    }

    @Test func streamMapsSeedAndStreamOntoKeyAndCounter() {
        let random = RandomStream(seed: 0x299f_31d0_a409_3822, stream: 0x0370_7344_1319_8a2e)
        let r = Philox.block(random, 0x85a3_08d3_243f_6a88)
        #expect([r.0, r.1, r.2, r.3] == [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1])
    }

    /// The CPU backend's vectorized Box–Muller (polynomial ln, sin and cos in `aek_normals`) against the C
    /// library's, over 2¹⁸ draws: every value within 10⁻⁶·max(1, |n|), including the tails (u₁ near 2⁻²⁴) and
    /// angles on both sides of each quadrant boundary; odd counts and starts keep the pairing.
    @Test func cpuNormalsMatchTheLibraryBoxMuller() throws {
        let device = CPUDevice()
        let random = RandomStream(seed: 0x5EED_0F_A11, stream: 3)
        let n = 1 << 18
        let buffer = try device.makeBuffer(count: n + 1, dtype: .float32)
        device.fillNormal(buffer.slice(0, n + 1), mean: 0, std: 1, random: random)
        let drawn = device.read(buffer.whole)
        var worst = 0.0
        for i in 0...n {
            let expected = Double(Philox.normal(random, i))
            worst = max(worst, abs(Double(drawn[i]) - expected) / max(1, abs(expected)))
        }
        #expect(worst <= 1e-6, "largest relative difference \(worst)")
        #expect(drawn.map { abs($0) }.max()! > 4.5)   // the tail was reached
    }

    @Test(arguments: TestDevices.selectors)
    func fillsFollowTheDocumentedMapping(selector: String) throws {
        let device = try TestDevices.device(selector)
        let random = RandomStream(seed: 0xDEAD_BEEF_1234, stream: 77)
        for n in [1, 2, 3, 5, 1000, 4099] {
            // A view at an odd offset inside a larger buffer, with sentinels around it.
            let buffer = try device.makeBuffer([Float](repeating: -7, count: n + 5))
            let view = buffer.slice(3, n)
            device.fillUniform(view, low: -2, high: 3, random: random)
            let uniform = device.read(buffer.whole)
            #expect(uniform[..<3].allSatisfy { $0 == -7 } && uniform[(n + 3)...].allSatisfy { $0 == -7 })
            let expectedUniform = (0..<n).map { -2 + 5 * Philox.uniform(random, $0) }
            #expect(exactMismatch(Array(uniform[3..<(n + 3)]), expectedUniform) == nil, "\(selector) uniform n=\(n)")

            device.fillNormal(view, mean: 1, std: 2, random: random)
            let normal = device.read(view)
            let expectedNormal = (0..<n).map { 1 + 2 * Double(Philox.normal(random, $0)) }
            #expect(mismatch(normal, expectedNormal, rtol: 1e-5, atol: 1e-5) == nil, "\(selector) normal n=\(n)")
            #expect(device.read(buffer.slice(n + 3, 2)) == [-7, -7])

            device.fillBernoulli(view, keep: 0.3, scale: 4, random: random)
            let mask = device.read(view)
            #expect(exactMismatch(mask, (0..<n).map { Philox.uniform(random, $0) < 0.3 ? 4 : 0 }) == nil, "\(selector) bernoulli n=\(n)")
        }
    }

    @Test func openCLDrawsEqualCPUDraws() throws {
        let cpu = try TestDevices.device("cpu")
        let random = RandomStream(seed: 42, stream: 3)
        let n = 10_001
        var rng = TestRandom(seed: 5)
        let x = rng.array(n)
        func draws(_ device: any Device) throws -> [[Float]] {
            let buffer = try device.makeBuffer(count: n, dtype: .float32)
            let input = try device.makeBuffer(x)
            var result: [[Float]] = []
            device.fillUniform(buffer.whole, low: 0, high: 1, random: random)
            result.append(device.read(buffer.whole))
            device.fillNormal(buffer.whole, mean: 0, std: 1, random: random)
            result.append(device.read(buffer.whole))
            device.fillBernoulli(buffer.whole, keep: 0.5, scale: 2, random: random)
            result.append(device.read(buffer.whole))
            for corruption in [Corruption.gaussian(sigma: 0.5), .masking(probability: 0.3),
                               .saltAndPepper(probability: 0.2, low: -1, high: 1)] {
                device.corrupt(input.whole, into: buffer.whole, corruption: corruption, random: random)
                result.append(device.read(buffer.whole))
            }
            return result
        }
        let reference = try draws(cpu)
        for selector in TestDevices.selectors where selector != "cpu" {
            let other = try draws(try TestDevices.device(selector))
            #expect(exactMismatch(other[0], reference[0]) == nil, "\(selector) uniform")
            #expect(mismatch(other[1], doubles(reference[1]), rtol: 1e-5, atol: 1e-5) == nil, "\(selector) normal")
            #expect(exactMismatch(other[2], reference[2]) == nil, "\(selector) bernoulli")
            #expect(mismatch(other[3], doubles(reference[3]), rtol: 1e-5, atol: 1e-5) == nil, "\(selector) gaussian")
            #expect(exactMismatch(other[4], reference[4]) == nil, "\(selector) masking")
            #expect(exactMismatch(other[5], reference[5]) == nil, "\(selector) salt and pepper")
        }
    }

    @Test(arguments: TestDevices.selectors)
    func seedsAndStreamsGiveDifferentDraws(selector: String) throws {
        let device = try TestDevices.device(selector)
        let buffer = try device.makeBuffer(count: 64, dtype: .float32)
        var seen: [[Float]] = []
        for random in [RandomStream(seed: 1, stream: 0), RandomStream(seed: 2, stream: 0),
                       RandomStream(seed: 1, stream: 1), RandomStream(seed: 1 << 32, stream: 0),
                       RandomStream(seed: 1, stream: 1 << 32)] {
            device.fillUniform(buffer.whole, low: 0, high: 1, random: random)
            let draws = device.read(buffer.whole)
            #expect(!seen.contains(draws), "\(selector) \(random) repeats an earlier stream")
            seen.append(draws)
            device.fillUniform(buffer.whole, low: 0, high: 1, random: random)
            #expect(exactMismatch(device.read(buffer.whole), draws) == nil, "\(selector) same stream, same draws")
        }
    }

    @Test(arguments: TestDevices.selectors)
    func drawsHaveTheRightDistribution(selector: String) throws {
        let device = try TestDevices.device(selector)
        let n = 100_000
        let buffer = try device.makeBuffer(count: n, dtype: .float32)
        let random = RandomStream(seed: 2024, stream: 9)

        device.fillUniform(buffer.whole, low: 0, high: 1, random: random)
        let uniform = device.read(buffer.whole)
        #expect(uniform.allSatisfy { $0 >= 0 && $0 < 1 })
        let u = sampleMoments(uniform)
        #expect(abs(u.mean - 0.5) < 0.005 && abs(u.std - (1.0 / 12).squareRoot()) < 0.005, "\(selector) \(u)")
        // Every tenth of [0, 1) holds about a tenth of the draws.
        var bins = [Int](repeating: 0, count: 10)
        for v in uniform { bins[min(9, Int(v * 10))] += 1 }
        #expect(bins.allSatisfy { abs($0 - n / 10) < 600 }, "\(selector) bins \(bins)")

        device.fillUniform(buffer.whole, low: -3, high: 5, random: random)
        let shifted = device.read(buffer.whole)
        #expect(shifted.allSatisfy { $0 >= -3 && $0 <= 5 } && abs(sampleMoments(shifted).mean - 1) < 0.04)

        device.fillNormal(buffer.whole, mean: 0, std: 1, random: random)
        let normal = sampleMoments(device.read(buffer.whole))
        #expect(abs(normal.mean) < 0.015 && abs(normal.std - 1) < 0.015, "\(selector) \(normal)")

        device.fillNormal(buffer.whole, mean: -2, std: 0.5, random: random)
        let scaled = sampleMoments(device.read(buffer.whole))
        #expect(abs(scaled.mean + 2) < 0.008 && abs(scaled.std - 0.5) < 0.008, "\(selector) \(scaled)")

        for keep: Float in [0.1, 0.5, 0.9] {
            device.fillBernoulli(buffer.whole, keep: keep, scale: 1 / keep, random: random)
            let mask = device.read(buffer.whole)
            #expect(mask.allSatisfy { $0 == 0 || $0 == 1 / keep })
            let rate = Double(mask.filter { $0 != 0 }.count) / Double(n)
            #expect(abs(rate - Double(keep)) < 0.006, "\(selector) keep \(keep) gave \(rate)")
        }
    }

    @Test(arguments: TestDevices.selectors)
    func corruptionsHaveTheirStatistics(selector: String) throws {
        let device = try TestDevices.device(selector)
        let n = 100_000
        // Inputs in [0.2, 0.8]: never equal to the salt-and-pepper values 0 and 1 nor to a masked 0.
        var rng = TestRandom(seed: 11)
        let x = rng.array(n, 0.2, 0.8)
        let input = try device.makeBuffer(x)
        let output = try device.makeBuffer(count: n, dtype: .float32)
        let random = RandomStream(seed: 7, stream: 1)

        device.corrupt(input.whole, into: output.whole, corruption: .gaussian(sigma: 0.3), random: random)
        let noise = zip(device.read(output.whole), x).map { $0 - $1 }
        let m = sampleMoments(noise)
        #expect(abs(m.mean) < 0.005 && abs(m.std - 0.3) < 0.005, "\(selector) gaussian \(m)")

        device.corrupt(input.whole, into: output.whole, corruption: .masking(probability: 0.25), random: random)
        let masked = device.read(output.whole)
        #expect(zip(masked, x).allSatisfy { $0 == 0 || $0 == $1 })
        let maskedRate = Double(masked.filter { $0 == 0 }.count) / Double(n)
        #expect(abs(maskedRate - 0.25) < 0.006, "\(selector) masking \(maskedRate)")

        device.corrupt(input.whole, into: output.whole,
                       corruption: .saltAndPepper(probability: 0.2, low: 0, high: 1), random: random)
        let noisy = device.read(output.whole)
        #expect(zip(noisy, x).allSatisfy { $0 == 0 || $0 == 1 || $0 == $1 })
        let low = Double(noisy.filter { $0 == 0 }.count) / Double(n)
        let high = Double(noisy.filter { $0 == 1 }.count) / Double(n)
        #expect(abs(low - 0.1) < 0.005 && abs(high - 0.1) < 0.005, "\(selector) salt \(low) pepper \(high)")

        // Corrupting in place gives the same result as into a separate output.
        let inPlace = try device.makeBuffer(x)
        device.corrupt(inPlace.whole, into: inPlace.whole,
                       corruption: .saltAndPepper(probability: 0.2, low: 0, high: 1), random: random)
        #expect(exactMismatch(device.read(inPlace.whole), noisy) == nil)
    }

    @Test(arguments: TestDevices.selectors)
    func corruptionUsesTheDocumentedDraws(selector: String) throws {
        let device = try TestDevices.device(selector)
        let n = 1031
        var rng = TestRandom(seed: 13)
        let packed = rng.array(n + 2)
        let store = try device.makeBuffer(packed)
        let out = try device.makeBuffer([Float](repeating: .nan, count: n + 1))
        let x = Array(packed[2...])
        let random = RandomStream(seed: 99, stream: 5)
        let cases: [(Corruption, (Int) -> Double)] = [
            (.gaussian(sigma: 0.7), { Double(x[$0]) + 0.7 * Double(Philox.normal(random, $0)) }),
            (.masking(probability: 0.4), { Philox.uniform(random, $0) < 0.4 ? 0 : Double(x[$0]) }),
            (.saltAndPepper(probability: 0.5, low: -3, high: 3), {
                let u = Philox.uniform(random, $0)
                return u < 0.25 ? -3 : (u < 0.5 ? 3 : Double(x[$0]))
            }),
        ]
        for (corruption, expected) in cases {
            device.corrupt(store.slice(2, n), into: out.slice(1, n), corruption: corruption, random: random)
            let result = device.read(out.whole)
            #expect(result[0].isNaN)
            #expect(mismatch(Array(result[1...]), (0..<n).map(expected), rtol: 1e-5, atol: 1e-5) == nil,
                    "\(selector) \(corruption)")
        }
    }
}
