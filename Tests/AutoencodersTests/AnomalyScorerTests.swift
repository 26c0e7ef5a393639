import Compute
import Foundation
import Testing
@testable import Autoencoders

/// The anomaly scores of `detect`: standardized per model on the normal training samples, the code's Gaussian,
/// and the ensemble's mean, on a small planted table.
@Suite struct AnomalyScorerTests {
    /// 200 normal rows of 6 features near a 2-D plane (x = a·u + b·v + small noise), seeded.
    static func planted(count: Int, seed: UInt64, offPlane: Float = 0) -> Dataset {
        var generator = SplitMix64(seed: seed)
        func uniform() -> Float { Float(generator.next() >> 40) / Float(1 << 24) * 2 - 1 }
        let u: [Float] = [1, 0.5, -0.5, 0.25, 0, 0.75], v: [Float] = [0, 1, 0.5, -0.75, 1, -0.25]
        let w: [Float] = [0.5, -0.5, 0.5, 0.5, -0.5, -0.5]  // orthogonal to neither: leaves the plane
        var features: [Float] = []
        for _ in 0..<count {
            let a = uniform(), b = uniform()
            features += (0..<6).map { a * u[$0] + b * v[$0] + 0.05 * uniform() + offPlane * w[$0] }
        }
        return Dataset(name: "planted", shape: [6], features: features)
    }

    static func trainedAE(seed: UInt64, normal: Dataset) throws -> Autoencoder {
        var config = ModelConfig(kind: .ae, inputShape: [6])
        config.hidden = [16]
        config.latentDim = 2
        config.likelihood = .gaussian
        var training = TrainingConfig()
        training.epochs = 30
        training.batchSize = 20
        training.validationFraction = 0
        training.seed = seed
        let model = try Autoencoder(config: config, device: try Devices.open(.cpu), batchSize: 20, seed: seed)
        try Trainer(model: model, config: training, training: normal, validation: nil).run()
        return model
    }

    @Test(arguments: AnomalyScoreKind.allCases)
    func scoresOfTheNormalTrainingSamplesAreStandardized(kind: AnomalyScoreKind) throws {
        let normal = Self.planted(count: 200, seed: 1)
        let model = try Self.trainedAE(seed: 0, normal: normal)
        let scorer = try AnomalyScorer(kind: kind, model: model, normal: normal, seed: 0)
        let scores = try scorer.scores(model: model, data: normal)
        let moments = AnomalyScorer.moments(scores)
        #expect(abs(moments.mean) < 1e-9 && abs(moments.deviation - 1) < 1e-9, "\(moments)")
        // samples pushed off the normal plane score above every normal one on average
        let off = try scorer.scores(model: model, data: Self.planted(count: 50, seed: 2, offPlane: 1))
        #expect(off.reduce(0, +) / 50 > scores.max()! / 2, "\(off.reduce(0, +) / 50)")
        #expect(DetectionMetrics.rocAUC(scores: scores + off, labels: scores.map { _ in false } + off.map { _ in true })! > 0.95)
    }

    @Test func ensembleScoreIsTheMeanOfItsMembersStandardizedScores() throws {
        let normal = Self.planted(count: 200, seed: 1)
        let models = try [0, 1, 2].map { try Self.trainedAE(seed: $0, normal: normal) }
        let test = Self.planted(count: 40, seed: 3, offPlane: 0.3)
        let ensemble = try AnomalyEnsemble(models: models, kind: .standardizedAndCode, normal: normal, seed: 0)
        let members = try models.map {
            try AnomalyScorer(kind: .standardizedAndCode, model: $0, normal: normal, seed: 0).scores(model: $0, data: test)
        }
        let combined = try ensemble.scores(test)
        for i in 0..<test.count {
            #expect(abs(combined[i] - (members[0][i] + members[1][i] + members[2][i]) / 3) < 1e-9)
        }
        // different seeds give different members, so the mean is not any one of them
        #expect(members[0] != members[1])
    }

    /// Fitted on rows streamed from disk and scoring streamed rows (batches straddling chunks), every kind of score
    /// is the one fitted and scored on the same rows loaded whole, exactly.
    @Test(arguments: AnomalyScoreKind.allCases)
    func streamedRowsScoreAsTheRowsLoadedWhole(kind: AnomalyScoreKind) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let normal = Self.planted(count: 200, seed: 1), test = Self.planted(count: 70, seed: 2, offPlane: 0.5)
        let url = directory.file("rows.npy")
        try NPYFormat.write(HostTensor(shape: [270, 6], float32: normal.features + test.features), to: url)
        let model = try Self.trainedAE(seed: 4, normal: normal)
        let source = try NPYRowFile(url)
        func rows(_ range: Range<Int>) throws -> StreamedDataset {
            try StreamedDataset(source: source, ranges: [range], device: model.device, batchSize: 20, chunkRows: 30)
        }
        let resident = try AnomalyScorer(kind: kind, model: model, normal: normal, seed: 3)
        let streamed = try AnomalyScorer(kind: kind, model: model, normal: try rows(0..<200), seed: 3)
        let expected = try resident.scores(model: model, data: test)
        #expect(try streamed.scores(model: model, data: try rows(200..<270)) == expected)
        #expect(try streamed.scores(model: model, data: test) == expected)
        let ensemble = try AnomalyEnsemble(models: [model], kind: kind, normal: try rows(0..<200), seed: 3)
        #expect(try ensemble.scores(try rows(200..<270)) == expected)
    }

    @Test func codeGaussianFactorReproducesTheCovariance() {
        // codes (1, 2), (3, 2), (2, 5), (2, -1): mean (2, 2), covariance [[0.5, 0], [0, 4.5]]
        let codes = LatentCodes(dimension: 2, values: [1, 2, 3, 2, 2, 5, 2, -1])
        let (mean, factor) = AnomalyScorer.gaussian(codes)
        #expect(mean == [2, 2])
        let ridge = 1e-6 * (0.5 + 4.5) / 2 + 1e-12
        #expect(abs(factor[0] * factor[0] - (0.5 + ridge)) < 1e-12)
        #expect(abs(factor[2]) < 1e-12 && abs(factor[1]) == 0)
        #expect(abs(factor[3] * factor[3] - (4.5 + ridge)) < 1e-12)
    }
}
