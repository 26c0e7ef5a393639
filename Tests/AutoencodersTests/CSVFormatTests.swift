import Foundation
import Testing
@testable import Autoencoders

@Suite("CSV format")
struct CSVFormatTests {
    static let table = """
    x,"y, quoted",label,z
    1,2.5,0,-3
    4,"5e-1",1,6

    7,8,2,  9\r
    """

    @Test func allColumnsButTheLabel() throws {
        let data = try CSVFormat.decode(Array(Self.table.utf8), file: "t.csv", options: CSVOptions(labelColumn: "label"))
        #expect(data.shape == [3])
        #expect(data.count == 3)
        #expect(data.features == [1, 2.5, -3, 4, 0.5, 6, 7, 8, 9])
        #expect(data.labels == [0, 1, 2])
    }

    @Test func chosenFeaturesInTheirOrder() throws {
        let options = CSVOptions(labelColumn: "label", featureColumns: ["z", "y, quoted"])
        let data = try CSVFormat.decode(Array(Self.table.utf8), file: "t.csv", options: options)
        #expect(data.features == [-3, 2.5, 6, 0.5, 9, 8])
        #expect(data.labels == [0, 1, 2])
    }

    @Test func noLabelColumnMeansEveryColumnIsAFeature() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let url = try dir.write(Array("a,b\n1,2\n3,4\n".utf8), to: "plain.csv")
        let data = try CSVFormat.load(url)
        #expect(data.labels == nil)
        #expect(data.features == [1, 2, 3, 4])
        #expect(data.name == "plain.csv")
    }

    @Test func labelListedAsFeatureIsRejected() {
        #expect(throws: DataError.self) {
            try CSVFormat.decode(Array(Self.table.utf8), file: "t.csv", options: CSVOptions(labelColumn: "label", featureColumns: ["x", "label"]))
        }
    }

    @Test func errorsCarryLineNumbers() {
        do {
            _ = try CSVFormat.decode(Array("a,b\n1,2\n\n3\n".utf8), file: "r.csv")
            Issue.record("ragged row accepted")
        } catch let error as DataError {
            #expect(error.line == 4)
            #expect(error.problem == .raggedRow(expected: 2, found: 1))
            #expect(error.description == "r.csv:4: ragged row: 1 fields, header has 2")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
