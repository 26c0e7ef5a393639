import Foundation
import Testing
@testable import Autoencoders

@Suite("Bundled data")
struct BundledDataTests {
    @Test(arguments: [(BundledData.Split.train, 1500), (.test, 297)])
    func digits(_ split: BundledData.Split, _ expected: Int) throws {
        let data = try BundledData.digits(split: split)
        #expect(data.count == expected)
        #expect(data.shape == [1, 8, 8])
        #expect(data.dimension == 64)
        let labels = try #require(data.labels)
        #expect(labels.count == expected)
        #expect(Set(labels) == Set(0...9))
        #expect(data.features.min() == 0)
        #expect(data.features.max() == 1)
        #expect(data.features.allSatisfy { $0 >= 0 && $0 <= 1 })
        // Pixels are k/16 scaled to 0–255 then to [0, 1]: many distinct grey levels, mostly dark borders.
        #expect(Set(data.features).count > 10)
    }

    @Test func breastCancer() throws {
        let data = try BundledData.breastCancer()
        #expect(data.count == 569)
        #expect(data.shape == [30])
        #expect(data.labels?.filter { $0 == 1 }.count == 212)
        #expect(data.labels?.filter { $0 == 0 }.count == 357)
        #expect(data.sample(0).first == 17.99)   // mean_radius of the first row
        #expect(data.features.allSatisfy { $0.isFinite && $0 >= 0 })
        let two = try BundledData.breastCancer(featureColumns: ["mean_area", "mean_radius"])
        #expect(two.shape == [2])
        #expect(Array(two.sample(0)) == [1001, 17.99])
    }
}

@Suite("Dataset")
struct DatasetTests {
    static let data = Dataset(name: "toy", shape: [2], features: (0..<20).map(Float.init),
                              labels: [0, 1, 2, 0, 1, 2, 0, 1, 2, 0])

    @Test func subsetAndFilter() throws {
        let picked = Self.data.subset([3, 0, 3])
        #expect(picked.features == [6, 7, 0, 1, 6, 7])
        #expect(picked.labels == [0, 0, 0])
        let twos = try Self.data.filter(label: 2)
        #expect(twos.count == 3)
        #expect(twos.features == [4, 5, 10, 11, 16, 17])
        #expect(try Self.data.filter(labels: [0, 1]).count == 7)
        let unlabelled = Dataset(name: "u", shape: [1], features: [1, 2])
        #expect(throws: DataError.self) { try unlabelled.filter(label: 0) }
    }

    @Test func splitIsASeededPartition() throws {
        let (train, test) = try Self.data.split(seed: 42, fraction: 0.7)
        #expect(train.count == 7)
        #expect(test.count == 3)
        let firsts = (train.features + test.features).enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        #expect(Set(firsts) == Set(stride(from: 0, to: 20, by: 2).map(Float.init)))
        for i in 0..<train.count { #expect(train.sample(i).last == train.sample(i).first! + 1) }
        let again = try Self.data.split(seed: 42, fraction: 0.7)
        #expect(again.train == train && again.test == test)
        let other = try Self.data.split(seed: 43, fraction: 0.7)
        #expect(other.train != train)
        #expect(throws: DataError.self) { try Self.data.split(seed: 1, fraction: 1.5) }
        #expect(try Self.data.split(seed: 1, fraction: 1).test.count == 0)
    }

    @Test func splitMix64MatchesTheReferenceSequence() {
        // First outputs of the reference SplitMix64 (Vigna's splitmix64.c) seeded with 0.
        var generator = SplitMix64(seed: 0)
        #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
        #expect(generator.next() == 0x6E78_9E6A_A1B9_65F4)
        var bounded = SplitMix64(seed: 7)
        for _ in 0..<1000 { #expect(bounded.next(upperBound: 10) < 10) }
    }
}

@Suite("Normalizer")
struct NormalizerTests {
    static let data = Dataset(name: "n", shape: [3], features: [1, 10, 5, 3, 20, 5, 5, 60, 5, 7, 30, 5])

    @Test func minmaxMapsTrainingDataToUnitRange() throws {
        let normalizer = Normalizer(.minmax, fittedOn: Self.data)
        #expect(normalizer.shift == [1, 10, 5])
        #expect(normalizer.divisor == [6, 50, 1])
        let mapped = try normalizer.apply(to: Self.data)
        #expect(mapped.features == [0, 0, 0, 1.0 / 3, 0.2, 0, 2.0 / 3, 1, 0, 1, 0.4, 0])
        #expect(try normalizer.invert(mapped).features == Self.data.features)
    }

    @Test func zscoreGivesZeroMeanUnitVariance() throws {
        let normalizer = Normalizer(.zscore, fittedOn: Self.data)
        let mapped = try normalizer.apply(to: Self.data)
        for j in 0..<3 {
            let column = (0..<4).map { Double(mapped.features[$0 * 3 + j]) }
            let mean = column.reduce(0, +) / 4
            let variance = column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4
            #expect(abs(mean) < 1e-6)
            #expect(abs(variance - (j == 2 ? 0 : 1)) < 1e-5)
        }
        #expect(abs(normalizer.divisor[0] - Float(5.0.squareRoot())) < 1e-6)   // σ of 1, 3, 5, 7
        var values = mapped.features
        normalizer.invert(&values)
        for (a, b) in zip(values, Self.data.features) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b))) }
    }

    @Test func codableRoundTripAndValidation() throws {
        let normalizer = Normalizer(.zscore, fittedOn: Self.data)
        let json = try JSONEncoder().encode(normalizer)
        #expect(try JSONDecoder().decode(Normalizer.self, from: json) == normalizer)
        let bad = #"{"method":"minmax","shift":[0,0],"divisor":[1,0]}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Normalizer.self, from: Data(bad.utf8)) }
        let none = Normalizer(.none, fittedOn: Self.data)
        #expect(try none.apply(to: Self.data) == Self.data)
        let wrong = Dataset(name: "w", shape: [2], features: [1, 2])
        #expect(throws: DataError.self) { try normalizer.apply(to: wrong) }
    }
}

@Suite("Data source")
struct DataSourceTests {
    @Test func parsesNamesAndExtensions() throws {
        #expect(try DataSource(parsing: "digits") == .digits)
        #expect(try DataSource(parsing: "breast-cancer") == .breastCancer(featureColumns: nil))
        #expect(try DataSource(parsing: "/d/train-images-idx3-ubyte") == .idx(URL(fileURLWithPath: "/d/train-images-idx3-ubyte")))
        #expect(try DataSource(parsing: "x.IDX") == .idx(URL(fileURLWithPath: "x.IDX")))
        #expect(try DataSource(parsing: "x.gz") == .idx(URL(fileURLWithPath: "x.gz")))
        #expect(try DataSource(parsing: "a.npy") == .npy(URL(fileURLWithPath: "a.npy")))
        let options = CSVOptions(labelColumn: "y", featureColumns: ["a"])
        #expect(try DataSource(parsing: "t.csv", csv: options) == .csv(URL(fileURLWithPath: "t.csv"), options))
        #expect(throws: DataError.self) { try DataSource(parsing: "model.bin") }
        #expect(throws: DataError.self) { try DataSource(parsing: "") }
        #expect(throws: DataError.self) { try DataSource(parsing: "a.npy", csv: options) }
        #expect(throws: DataError.self) { try DataSource(parsing: "breast-cancer", csv: CSVOptions(labelColumn: "other")) }
        #expect(try DataSource(parsing: "digits").description == "digits")
    }

    @Test func loadsAndSplits() throws {
        let digits = try DataSource.digits.loadSplit(testFraction: 0.2, seed: 1)
        #expect(digits.train.count == 1500 && digits.test.count == 297)
        let cancer = try DataSource(parsing: "breast-cancer").loadSplit(testFraction: 0.25, seed: 9)
        #expect(cancer.test.count == 142)
        #expect(cancer.train.count == 427)
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let url = try dir.write(Array("a,label\n1,0\n2,1\n".utf8), to: "t.csv")
        let table = try DataSource(parsing: url.path, csv: CSVOptions(labelColumn: "label")).load()
        #expect(table.labels == [0, 1])
        #expect(throws: DataError.self) { try DataSource(parsing: dir.file("missing.npy").path).load() }
    }
}

@Suite("File checks")
struct FileCheckTests {
    @Test func devicesAreRefusedWithoutReading() {
        do {
            _ = try CSVFormat.load(URL(fileURLWithPath: "/dev/zero"))
            Issue.record("/dev/zero was read")
        } catch let error as DataError {
            #expect(error.description == "zero: cannot read: not a regular file")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func messagesStayOnOneLine() {
        let error = DataError(file: "/a/b/x.csv", line: 3, .nonNumeric(column: "c\nd", field: "1\r\n2\u{2028}"))
        #expect(error.description == #"x.csv:3: non-numeric value "1\r\n2\u{2028}" in column "c\nd""#)
    }
}
