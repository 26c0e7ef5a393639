import Autoencoders
import Compute
import Foundation
import Testing
import TestSupport

/// Sampling, interpolation, traversal, arithmetic and code files on small untrained models: the numbers must
/// follow from the definitions whatever the weights are.
@Suite struct ApplicationsTests {
    static let digits = try! BundledData.digits(split: .test)

    static func model(_ kind: ModelKind, selector: String = "cpu", batchSize: Int = 32) throws -> Autoencoder {
        var config = ModelConfig(kind: kind, inputShape: [1, 8, 8])
        config.hidden = [32]
        config.latentDim = 4
        config.vq.codebookSize = 8
        config.vq.codeDim = 2
        return try Autoencoder(config: config, device: try TestDevices.device(selector), batchSize: batchSize, seed: 5)
    }

    @Test func encodeAndDecodeHandleAnyCountInPaddedBatches() throws {
        let model = try Self.model(.ae, batchSize: 16)
        let data = Self.digits.subset(Array(0..<37))
        let codes = try model.encode(data)
        #expect(codes.count == 37 && codes.values.count == 37 * 4 && codes.labels == data.labels)
        // the same sample encodes the same whether it lands in the first or the padded last batch
        let alone = try model.encode(data.subset([36]))
        #expect(mismatch(alone.values, doubles(codes.code(36)), rtol: 1e-5, atol: 1e-6) == nil)
        let decoded = try model.decode(codes: codes.values)
        #expect(decoded.count == 37 * 64)
        #expect(decoded.allSatisfy { $0 >= 0 && $0 <= 1 }, "Bernoulli outputs are probabilities")
        #expect(try model.reconstruct(data) == decoded)
    }

    @Test func interpolationEndsAtTheInputsCodes() throws {
        let model = try Self.model(.vae)
        let codes = try model.encode(Self.digits.subset([3, 11]))
        let a = codes.code(0), b = codes.code(1)
        for path in [LatentPath.linear(from: a, to: b, steps: 7), LatentPath.slerp(from: a, to: b, steps: 7)] {
            #expect(path.count == 7)
            #expect(mismatch(path[0], doubles(a), rtol: 1e-6, atol: 1e-6) == nil)
            #expect(mismatch(path[6], doubles(b), rtol: 1e-6, atol: 1e-6) == nil)
        }
        let middle = LatentPath.linear(from: a, to: b, steps: 3)[1]
        #expect(mismatch(middle, zip(a, b).map { (Double($0) + Double($1)) / 2 }) == nil)
    }

    @Test func slerpFollowsTheGreatCircle() {
        // unit vectors 90° apart: every point has norm 1 and the midpoint is at 45° to both
        let a: [Float] = [1, 0, 0], b: [Float] = [0, 1, 0]
        let path = LatentPath.slerp(from: a, to: b, steps: 5)
        for z in path {
            #expect(abs(z.reduce(0) { $0 + Double($1) * Double($1) } - 1) < 1e-6)
        }
        let half = Double(0.5).squareRoot()
        #expect(mismatch(path[2], [half, half, 0], atol: 1e-6) == nil)
        // parallel vectors fall back to the straight line
        #expect(LatentPath.slerp(from: [1, 2], to: [2, 4], steps: 3)[1] == [1.5, 3])
    }

    @Test func traversalMovesOneDimensionPerRowOverPlusMinusThreeSigma() {
        let center: [Double] = [0.5, -1, 2], sigma: [Double] = [1, 0.25, 2]
        let grid = LatentPath.traversal(center: center, sigma: sigma, steps: 9)
        #expect(grid.count == 3 && grid.allSatisfy { $0.count == 9 })
        for (j, row) in grid.enumerated() {
            #expect(abs(Double(row[0][j]) - (center[j] - 3 * sigma[j])) < 1e-6)
            #expect(abs(Double(row[8][j]) - (center[j] + 3 * sigma[j])) < 1e-6)
            #expect(row[4].map(Double.init) == center.map { Double(Float($0)) }, "the middle column is the centre")
            for code in row {
                for k in 0..<3 where k != j { #expect(Double(code[k]) == Double(Float(center[k]))) }
            }
        }
        #expect(LatentPath.traversalOffsets(steps: 3) == [-3, 0, 3])
    }

    @Test func arithmeticWithEqualBAndCDecodesA() throws {
        let model = try Self.model(.ae)
        let codes = try model.encode(Self.digits.subset(Array(0..<40)))
        let a = try LatentOperand.sample(4).code(in: codes)
        let b = try LatentOperand.labelMean(codes.labels![9]).code(in: codes)
        let result = LatentArithmetic.combine(a, minus: b, plus: b)
        #expect(result == a)
        let decoded = try model.decode(codes: result)
        #expect(mismatch(decoded, doubles(try model.decode(codes: codes.code(4))), rtol: 1e-6, atol: 1e-7) == nil)
        // a − b + c by hand
        let c = codes.code(7)
        #expect(mismatch(LatentArithmetic.combine(a, minus: codes.code(5), plus: c),
                         a.indices.map { Double(a[$0]) - Double(codes.code(5)[$0]) + Double(c[$0]) }, atol: 1e-6) == nil)
    }

    @Test func labelMeansAverageTheClassCodes() throws {
        let codes = LatentCodes(dimension: 2, values: [1, 2, 3, 4, 10, 20, 5, 6], labels: [0, 1, 1, 0])
        #expect(try codes.mean(label: 0) == [3, 4])
        #expect(try codes.mean(label: 1) == [6.5, 12])
        #expect(throws: ConfigError.self) { try codes.mean(label: 2) }
        #expect(throws: ConfigError.self) { try LatentOperand.sample(4).code(in: codes) }
        #expect(codes.mean() == [4.75, 8])
        #expect(throws: ConfigError.self) { try LatentCodes(dimension: 2, values: [1, 2]).mean(label: 0) }
    }

    @Test func operandsParse() throws {
        #expect(try LatentOperand(parsing: "12") == .sample(12))
        #expect(try LatentOperand(parsing: "label:3") == .labelMean(3))
        for bad in ["-1", "x", "label:", "label:a", ""] {
            #expect(throws: ConfigError.self) { try LatentOperand(parsing: bad) }
        }
    }

    @Test(arguments: TestDevices.selectors)
    func vaePriorDrawsStandardNormalCodes(selector: String) throws {
        let model = try Self.model(.vae, selector: selector)
        let prior = try LatentPrior.fit(model: model) { Issue.record("a VAE needs no data"); return Self.digits }
        #expect(prior == .standardNormal(dimension: 4))
        let z = try prior.sample(count: 5000, seed: 9, device: model.device)
        let codes = LatentCodes(dimension: 4, values: z)
        for (m, s) in zip(codes.mean(), codes.standardDeviation()) {
            #expect(abs(m) < 0.05 && abs(s - 1) < 0.05, "mean \(m), std \(s)")
        }
        #expect(try prior.sample(count: 5000, seed: 9, device: model.device) == z, "seeded")
        #expect(try prior.sample(count: 10, seed: 10, device: model.device) != Array(z.prefix(40)))
    }

    @Test func autoencoderPriorIsAGaussianFittedToTheTrainingCodes() throws {
        let model = try Self.model(.ae)
        let codes = try model.encode(Self.digits)
        let prior = try LatentPrior.fit(model: model) { Self.digits }
        guard case .gaussian(let mean, let std) = prior else { Issue.record("expected a Gaussian, got \(prior)"); return }
        #expect(mean == codes.mean() && std == codes.standardDeviation())
        let drawn = LatentCodes(dimension: 4, values: try prior.sample(count: 8000, seed: 1, device: model.device))
        for j in 0..<4 {
            #expect(abs(drawn.mean()[j] - mean[j]) < 0.06 * std[j] + 1e-6)
            #expect(abs(drawn.standardDeviation()[j] / std[j] - 1) < 0.06)
        }
    }

    @Test func vqPriorIsTheCodeUsagePerPosition() throws {
        let model = try Self.model(.vqVAE)
        let codes = try model.encode(Self.digits)
        let prior = try LatentPrior.fit(model: model) { Self.digits }
        guard case .categorical(let frequencies, let codebook, let d) = prior else {
            Issue.record("expected a categorical prior, got \(prior)")
            return
        }
        #expect(frequencies.count == 2 && d == 2 && codebook.count == 16 && prior.dimension == 4)
        let indices = try #require(codes.indices)
        for (p, row) in frequencies.enumerated() {
            #expect(abs(row.reduce(0, +) - 1) < 1e-12, "position \(p) frequencies sum to \(row.reduce(0, +))")
            for k in 0..<8 {
                let used = stride(from: p, to: indices.count, by: 2).filter { indices[$0] == k }.count
                #expect(row[k] == Double(used) / Double(codes.count))
            }
        }
        // every drawn vector is a codebook row that the training data used at that position
        let z = try prior.sample(count: 300, seed: 2, device: model.device)
        for sample in 0..<300 {
            for p in 0..<2 {
                let vector = Array(z[(sample * 4 + p * 2)..<(sample * 4 + p * 2 + 2)])
                let k = try #require((0..<8).first { Array(codebook[($0 * 2)..<($0 * 2 + 2)]) == vector })
                #expect(frequencies[p][k] > 0)
            }
        }
    }

    @Test func codesWriteAsNPYAndCSV() throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let model = try Self.model(.vqVAE)
        let data = Self.digits.subset(Array(0..<10))
        let codes = try model.encode(data)
        let files = try codes.write(to: folder.file("codes.npy"))
        #expect(files.map(\.lastPathComponent) == ["codes.npy", "codes-indices.npy"])
        let values = try NPYFormat.read(files[0])
        #expect(values.shape == [10, 4] && values.elements == .float32(codes.values))
        let indices = try NPYFormat.read(files[1])
        #expect(indices.shape == [10, 2] && indices.elements == .int32(codes.indices!))

        try codes.write(to: folder.file("codes.csv"))
        let table = try CSVFormat.load(folder.file("codes.csv"), options: CSVOptions(labelColumn: "label"))
        #expect(table.count == 10 && table.dimension == 6 && table.labels == data.labels)
        #expect(Array(table.features.prefix(4)) == codes.code(0), "floats round-trip exactly")
        #expect(Array(table.features[4..<6]) == codes.indices!.prefix(2).map(Float.init))
        #expect(throws: ConfigError.self) { try codes.write(to: folder.file("codes.txt")) }
    }

    @Test func pcaRecoversADominantDirection() {
        // points t·u + small isotropic noise in 5-D: the first component is ±u with variance ≈ Var t
        let u: [Double] = [0.5, -0.5, 0.5, 0.5, 0].map { $0 }
        var random = TestRandom(seed: 4)
        var points: [Float] = []
        var ts: [Double] = []
        for _ in 0..<2000 {
            let t = Double(random.uniform(-3, 3))
            ts.append(t)
            for j in 0..<5 { points.append(Float(t * u[j] + 1 + 0.05 * Double(random.uniform()))) }
        }
        let pca = PrincipalComponents(points: points, dimension: 5, count: 2)
        let first = pca.components[0]
        let alignment = abs(zip(first, u).map(*).reduce(0, +))
        #expect(alignment > 0.9999, "first component \(first) vs \(u)")
        let tMean = ts.reduce(0, +) / 2000
        let tVariance = ts.map { ($0 - tMean) * ($0 - tMean) }.reduce(0, +) / 2000
        #expect(abs(pca.variances[0] / tVariance - 1) < 0.01)
        #expect(pca.variances[1] < 0.01 * pca.variances[0] && pca.variances[1] >= 0)
        #expect(abs(pca.mean[4] - 1) < 0.01)
        // projections have the component's variance and zero mean
        let projected = pca.project(points).map { $0[0] }
        let projectedMean = projected.reduce(0, +) / 2000
        #expect(abs(projectedMean) < 1e-6)
        #expect(abs(projected.map { $0 * $0 }.reduce(0, +) / 2000 / pca.variances[0] - 1) < 1e-6)
    }

    @Test func pcaOfAKnownCovariance() {
        // points ±(3, 0, 0), ±(0, 2, 0), ±(0, 0, 1) rotated: eigenvalues 9/3, 4/3, 1/3
        let angle = 0.3
        let (c, s) = (cos(angle), sin(angle))
        let base: [[Double]] = [[3, 0, 0], [-3, 0, 0], [0, 2, 0], [0, -2, 0], [0, 0, 1], [0, 0, -1]]
        var points: [Float] = []
        for p in base {
            let x: Double = c * p[0] - s * p[1], y: Double = s * p[0] + c * p[1]
            points += [Float(x), Float(y), Float(p[2])]
        }
        let pca = PrincipalComponents(points: points, dimension: 3, count: 3)
        let expected: [Double] = [3, 4.0 / 3, 1.0 / 3]
        #expect(mismatch(pca.variances.map { Float($0) }, expected, rtol: 1e-5) == nil)
        #expect(abs(abs(pca.components[0][0]) - c) < 1e-6 && abs(abs(pca.components[0][1]) - s) < 1e-6)
        #expect(abs(pca.totalVariance - (3 + 4.0 / 3 + 1.0 / 3)) < 1e-6)
    }
}
