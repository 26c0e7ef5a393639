@testable import Autoencoders
import Compute
import Foundation
import Testing
import TestSupport

/// The library's detector: fitted on rows held in memory, scoring new rows with no files, a threshold from held-out
/// rows or from the expected contamination, and saved and read back with the same scores.
@Suite struct AnomalyDetectorTests {
    static let table = try! BundledData.breastCancer()
    static let benign = table.labels!.indices.filter { table.labels![$0] == 0 }
    static let malignant = table.labels!.indices.filter { table.labels![$0] == 1 }

    /// The rows of `indices`, as a caller holds them: `dimension` floats a row.
    static func rows(_ indices: some Sequence<Int>) -> [Float] {
        let features = table.features
        return indices.flatMap { features[($0 * 30)..<($0 * 30 + 30)] }
    }

    static func options(_ adjust: (inout AnomalyDetector.Options) -> Void = { _ in }) -> AnomalyDetector.Options {
        var options = AnomalyDetector.Options()
        options.ensemble = 2
        adjust(&options)
        return options
    }

    @Test(arguments: TestDevices.selectors)
    func fitsNormalRowsScoresNewOnesAndReadsBackTheSame(selector: String) throws {
        let device = try TestDevices.device(selector)
        let detector = try AnomalyDetector(fitting: Self.table.subset(Array(Self.benign.prefix(200))), options: Self.options(),
                                           device: device)
        #expect(detector.dimension == 30 && detector.ensemble.models.count == 2)
        let unseen = Array(Self.benign.dropFirst(200)) + Self.malignant
        let scores = try detector.scores(Self.rows(unseen))
        #expect(scores.count == unseen.count)
        let anomalous = unseen.map { Self.table.labels![$0] == 1 }
        let auc = try #require(DetectionMetrics.rocAUC(scores: scores, labels: anomalous))
        #expect(auc > 0.9, "ROC-AUC \(auc) on \(selector)")
        // the threshold comes from the 20 held-out normal rows: most unseen normal rows stay below it
        let benignFlagged = zip(scores, anomalous).filter { !$0.1 && $0.0 > detector.threshold }.count
        #expect(benignFlagged < (Self.benign.count - 200) / 3, "\(benignFlagged) normal rows flagged")
        #expect(try detector.isAnomalous(Self.rows(unseen)) == scores.map { $0 > detector.threshold })

        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        try detector.save(to: folder.url)
        let loaded = try AnomalyDetector(contentsOf: folder.url, device: device)
        #expect(loaded.threshold == detector.threshold && loaded.normalizer == detector.normalizer)
        #expect(try loaded.scores(Self.rows(unseen)) == scores)
        // a labelled data set scores as its rows do
        #expect(try loaded.scores(Self.table.subset(unseen)) == scores)
    }

    @Test func contaminationSetsTheThresholdAtItsQuantileOfTheRowsFittedOn() throws {
        let device = try TestDevices.device("cpu")
        let mixed = Array(Self.benign.prefix(200)) + Array(Self.malignant.prefix(20))
        let detector = try AnomalyDetector(fitting: Self.table.subset(mixed), options: Self.options { $0.contamination = 0.1 },
                                           device: device)
        let scores = try detector.scores(Self.rows(mixed))
        let flagged = scores.filter { $0 > detector.threshold }.count
        #expect((20...24).contains(flagged), "\(flagged) of 220 flagged")
        // the hidden anomalies rank high among the rows fitted on (a detector that learned nothing: 0.5)
        let auc = try #require(DetectionMetrics.rocAUC(scores: scores, labels: mixed.map { Self.table.labels![$0] == 1 }))
        #expect(auc > 0.8, "\(auc)")
    }

    @Test func aHandfulOfRowsFitsAndBadRowsAreRefused() throws {
        let device = try TestDevices.device("cpu")
        let detector = try AnomalyDetector(fitting: Self.table.subset(Array(Self.benign.prefix(12))), options: Self.options(),
                                           device: device)
        #expect(try detector.scores(Self.rows(Self.malignant.prefix(3))).count == 3)
        #expect(throws: DataError.self) { try detector.scores([Float](repeating: 0, count: 31)) }
        #expect(throws: DataError.self) { try detector.scores([Float](repeating: .nan, count: 30)) }
        #expect(throws: DataError.self) { try detector.scores(Dataset(name: "narrow", shape: [29], features: [Float](repeating: 0, count: 29))) }
        #expect(throws: ConfigError.self) {
            try AnomalyDetector(fitting: Self.table.subset(Array(Self.benign.prefix(12))), options: Self.options { $0.contamination = 0.6 },
                                device: device)
        }
        let empty = try TemporaryDirectory()
        defer { empty.remove() }
        #expect(throws: DataError.self) { try AnomalyDetector(contentsOf: empty.url, device: device) }
    }
}
