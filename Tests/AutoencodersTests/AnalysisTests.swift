import Autoencoders
import Compute
import Foundation
import Testing
import TestSupport

/// Detection metrics and thresholds against hand-computed cases, PCA and the softmax probe on known data, and
/// the SAE extras on activations with planted sparse structure.
@Suite struct AnalysisTests {
    static let scores = [0.1, 0.4, 0.35, 0.8]
    static let labels = [false, false, true, true]

    @Test func rocAUCCountsTiesAsHalf() throws {
        #expect(try #require(DetectionMetrics.rocAUC(scores: Self.scores, labels: Self.labels)) == 0.75)
        // pairs (positive, negative): 2>1, 2=2 (½), 3>1, 3>2 → 3.5/4
        #expect(try #require(DetectionMetrics.rocAUC(scores: [1, 2, 2, 3], labels: [false, true, false, true])) == 0.875)
        #expect(DetectionMetrics.rocAUC(scores: [1, 2], labels: [true, true]) == nil)
        let curve = DetectionMetrics.rocCurve(scores: [1, 2, 2, 3], labels: [false, true, false, true])
        #expect(curve.map(\.fpr) == [0, 0, 0.5, 1])
        #expect(curve.map(\.tpr) == [0, 0.5, 1, 1])
    }

    @Test func averagePrecisionIsTheStepSumOverThresholds() throws {
        let ap = try #require(DetectionMetrics.averagePrecision(scores: Self.scores, labels: Self.labels))
        #expect(abs(ap - (0.5 * 1 + 0.5 * 2.0 / 3)) < 1e-12)
        // tied scores enter together: at 3 (P 1, R ½), at 2 (P ⅔, R 1)
        let tied = try #require(DetectionMetrics.averagePrecision(scores: [3, 2, 2, 1], labels: [true, false, true, false]))
        #expect(abs(tied - (0.5 + 0.5 * 2.0 / 3)) < 1e-12)
    }

    @Test func precisionRecallAndF1FlagScoresAboveTheThreshold() {
        let (p, r, f1) = DetectionMetrics.classification(scores: Self.scores, labels: Self.labels, threshold: 0.38)
        #expect(p == 0.5 && r == 0.5 && f1 == 0.5)
        let none = DetectionMetrics.classification(scores: Self.scores, labels: Self.labels, threshold: 1)
        #expect(none.precision == 0 && none.recall == 0 && none.f1 == 0)
    }

    @Test func thresholdRules() throws {
        let normal: [Double] = [1, 2, 3, 4, 5]
        #expect(try ThresholdRule(parsing: "percentile:95").threshold(validation: normal, scores: [], labels: nil) == 4.8)
        let sigma = try ThresholdRule(parsing: "sigma:2").threshold(validation: normal, scores: [], labels: nil)
        #expect(abs(sigma - (3 + 2 * 2.0.squareRoot())) < 1e-12)
        let ten = (1...10).map(Double.init)
        let fpr = try ThresholdRule(parsing: "fpr:0.2").threshold(validation: ten, scores: [], labels: nil)
        #expect(fpr == 8)  // flags 9 and 10: 20% of the normal samples
        // top 3 flagged gives F1 2·2/(3+2) = 0.8, the best; the threshold is the next lower score
        let f1 = try ThresholdRule(parsing: "f1").threshold(validation: [], scores: Self.scores, labels: Self.labels)
        #expect(f1 == 0.1)
        #expect(DetectionMetrics.classification(scores: Self.scores, labels: Self.labels, threshold: f1).f1 == 0.8)
        for bad in ["percentile:120", "f1:3", "sigma", "fpr:2", "median"] {
            #expect(throws: ConfigError.self) { try ThresholdRule(parsing: bad) }
        }
        #expect(throws: ConfigError.self) { try ThresholdRule.f1.threshold(validation: normal, scores: [1], labels: nil) }
    }

    @Test func pcaRecoversAPlantedDirection() {
        var generator = SplitMix64(seed: 7)
        func uniform() -> Double { Double(generator.next() >> 11) / Double(1 << 53) * 2 - 1 }
        let direction = [3.0 / 13, 4.0 / 13, 12.0 / 13, 0]
        let n = 400
        var rows = [Double]()
        for _ in 0..<n {
            let t = 5 * uniform()
            rows += direction.map { 1 + t * $0 + 0.05 * uniform() }
        }
        let pca = PrincipalComponents(rows: rows, dimension: 4, count: 2)
        let alignment = abs(zip(pca.components[0], direction).map(*).reduce(0, +))
        #expect(alignment > 0.999)
        #expect(pca.variances[0] > 100 * pca.variances[1])
        #expect(abs(pca.mean[3] - 1) < 0.01)
        let projected = pca.transform(rows)
        #expect(projected.count == 2 * n)
    }

    @Test func jacobiDiagonalizesASymmetricMatrix() {
        let matrix: [Double] = [4, 1, 2, 1, 3, 0, 2, 0, 5]
        let (values, vectors) = PrincipalComponents.jacobiEigen(matrix, dimension: 3)
        for c in 0..<3 {  // A v = λ v
            for r in 0..<3 {
                var av = 0.0
                for k in 0..<3 { av += matrix[r * 3 + k] * vectors[k * 3 + c] }
                let expected: Double = values[c] * vectors[r * 3 + c]
                #expect(abs(av - expected) < 1e-10)
            }
        }
        #expect(abs(values.reduce(0, +) - 12) < 1e-10)  // trace
    }

    @Test func softmaxProbeBeatsChanceOnDigits() throws {
        let train = try BundledData.digits(split: .train), test = try BundledData.digits(split: .test)
        let n = 300
        let x = train.features.prefix(n * train.dimension).map(Double.init)
        let y = Array(try #require(train.labels).prefix(n))
        let classifier = SoftmaxClassifier(features: x, labels: y, dimension: train.dimension)
        let accuracy = classifier.accuracy(test.features.map(Double.init), labels: try #require(test.labels))
        #expect(accuracy > 0.1 + 0.7, "accuracy \(accuracy) on 10 classes")
    }

    @Test func plateauIsTheSmallestSizeWithinTolerance() {
        #expect(LatentAnalysis.plateau(sizes: [2, 4, 8, 16], losses: [10, 5.05, 5.0, 5.01], tolerance: 0.02) == 4)
        #expect(LatentAnalysis.plateau(sizes: [2, 4, 8, 16], losses: [10, 5.2, 5.0, 5.01], tolerance: 0.02) == 8)
        let top = LatentAnalysis.topActivations(codes: [0, 2, 3, 0, 1, 0], count: 3, latents: 2, top: 2)
        #expect(top[0].map(\.index) == [1, 2])
        #expect(top[1].map(\.index) == [0])
    }

    /// The bounded heaps of ``TopActivations``, fed in batches of any size, pick what sorting the whole code
    /// matrix picks: the same samples in the same order, ties to the lower index, never a code ≤ 0.
    @Test(arguments: [1, 3, 5, 40])
    func topActivationsInBatchesEqualTheWholeMatrix(top: Int) {
        var rng = TestRandom(seed: 6)
        let n = 301, l = 7
        // few distinct values, many ties; latent 6 never fires
        let codes = (0..<(n * l)).map { i -> Float in i % l == 6 ? 0 : (rng.array(1, -3, 5)[0]).rounded() / 2 }
        let whole = LatentAnalysis.topActivations(codes: codes, count: n, latents: l, top: top)
        var selection = TopActivations(latents: l, top: top)
        var row = 0
        for size in [0, 1, 17, 100, 183] {
            selection.add(Array(codes[(row * l)..<((row + size) * l)]))
            row += size
        }
        #expect(selection.rows == n)
        let batched = selection.lists
        #expect(batched.count == l && batched[6].isEmpty)
        for j in 0..<l {
            #expect(batched[j].map(\.index) == whole[j].map(\.index), "latent \(j)")
            #expect(batched[j].map(\.activation) == whole[j].map(\.activation), "latent \(j)")
        }
    }

    /// A one-layer top-4 sparse autoencoder on 16 features with SAE maintenance, and its training at lr 0.01,
    /// batch 64, no validation split: the set-up of the SAE tests on ``plantedActivations(count:)``.
    static func plantedSAE(latentDim: Int, epochs: Int) -> (ModelConfig, TrainingConfig) {
        var config = ModelConfig(kind: .sparse, inputShape: [16])
        config.hidden = []
        config.latentDim = latentDim
        config.likelihood = .gaussian
        config.sparsity = .topK(k: 4)
        config.sae = SAEOptions()
        var training = TrainingConfig()
        training.epochs = epochs
        training.learningRate = 0.01
        training.batchSize = 64
        training.validationFraction = 0
        return (config, training)
    }

    /// Samples that are sums of two of 24 planted unit atoms in 16 dimensions with positive weights.
    static func plantedActivations(count: Int) -> Dataset {
        var generator = SplitMix64(seed: 11)
        func uniform() -> Float { Float(generator.next() >> 40) / Float(1 << 24) }
        let d = 16, atoms = 24
        var dictionary = [[Float]]()
        for _ in 0..<atoms {
            let v = (0..<d).map { _ in uniform() * 2 - 1 }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            dictionary.append(v.map { $0 / norm })
        }
        var features = [Float]()
        for _ in 0..<count {
            var x = [Float](repeating: 0, count: d)
            for _ in 0..<2 {
                let atom = dictionary[Int(generator.next(upperBound: UInt64(atoms)))], weight = 0.5 + 2 * uniform()
                for k in 0..<d { x[k] += weight * atom[k] }
            }
            features += x
        }
        return Dataset(name: "planted", shape: [d], features: features)
    }

    @Test(arguments: TestDevices.selectors)
    func saeKeepsUnitDecoderColumnsAndExplainsVariance(selector: String) throws {
        let device = try TestDevices.device(selector)
        let data = Self.plantedActivations(count: 1024)
        let (config, training) = Self.plantedSAE(latentDim: 32, epochs: 8)
        let model = try Autoencoder(config: config, device: device, batchSize: 64, seed: 3)
        let (train, validation) = try data.split(seed: 1, fraction: 0.9)
        let trainer = try Trainer(model: model, config: training, training: train, validation: validation)
        try trainer.run()
        let weight = try #require(model.weights()["decoder.0.weight"])
        guard case .float32(let w) = weight.elements else { Issue.record("decoder weight is not float"); return }
        for j in 0..<32 {
            let norm = (0..<16).map { w[$0 * 32 + j] * w[$0 * 32 + j] }.reduce(0, +).squareRoot()
            #expect(abs(norm - 1) < 1e-4, "column \(j) has norm \(norm)")
        }
        let last = try #require(trainer.history.last)
        let explained = try #require(last.explainedVariance)
        #expect(explained > 0.7, "explained variance \(explained)")
        #expect(try #require(last.l0) <= 4.0001)
        #expect(trainer.history.allSatisfy { $0.resampledUnits != nil })
    }
}
