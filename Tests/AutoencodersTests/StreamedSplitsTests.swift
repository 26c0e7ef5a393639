@testable import Autoencoders
import Foundation
import Testing
import TestSupport

/// A streamed run's splits are whole blocks, disjoint and covering the file, its normalizer the one fitted on
/// the same training rows loaded whole, and a later command gets the same rows back for each split.
@Suite struct StreamedSplitsTests {
    @Test(arguments: [Normalizer.Method.minmax, .zscore, .none])
    func blocksSplitTheFileAndTheNormalizerMatchesTheResidentOne(method: Normalizer.Method) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var rng = TestRandom(seed: 4)
        let values = rng.array(1000 * 6, -3, 5)
        let url = directory.file("table.npy")
        try NPYFormat.write(HostTensor(shape: [1000, 6], float32: values), to: url)
        let layout = StreamLayout(blockRows: 64, windowBlocks: 2)
        let splits = try StreamedSplits.load(source: url.path, normalization: method, testFraction: 0.2,
                                             validationFraction: 0.1, seed: 9, layout: layout)
        var covered = [Int](repeating: 0, count: 1000)
        for ranges in [splits.train, splits.validation, splits.test] {
            for range in ranges {
                #expect(range.lowerBound % 64 == 0, "splits start on block boundaries")
                for row in range { covered[row] += 1 }
            }
        }
        #expect(covered.allSatisfy { $0 == 1 }, "every row in exactly one split")
        // 16 blocks: 3 test (0.2 · 16), 1 validation (0.1 · 13), 12 train
        func blocks(_ ranges: [Range<Int>]) -> Int { Set(ranges.flatMap { $0.map { $0 / 64 } }).count }
        #expect(blocks(splits.test) == 3 && blocks(splits.validation) == 1 && blocks(splits.train) == 12)
        let data = Dataset(name: "table", shape: [6], features: values)
        let trainRows = splits.train.flatMap { Array($0) }
        #expect(splits.normalizer == Normalizer(method, fittedOn: data.subset(trainRows)))
        let loaded = try splits.loadAll(splits.train, name: "train")
        #expect(loaded.features == (try splits.normalizer.apply(to: data.subset(trainRows))).features)

        // a later command of the run gets the same test rows
        var config = RunConfig(model: ModelConfig(kind: .ae, inputShape: [6]), training: TrainingConfig(),
                               data: splits.description, device: "cpu")
        config.training.seed = 9
        config.training.validationFraction = 0.1
        let test = try PreparedData.load(source: nil, for: config, split: .test)
        #expect(test.features == (try splits.normalizer.apply(to: data.subset(splits.test.flatMap { Array($0) }))).features)
    }

    @Test func tooFewBlocksForTheSplitsIsOneLine() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("small.npy")
        try NPYFormat.write(HostTensor(shape: [100, 2], float32: Array(repeating: 1, count: 200)), to: url)
        #expect(throws: DataError(file: "small.npy", .invalidArgument("100 rows make 2 blocks of 64: too few for a test and a validation split and training blocks (lower --block-rows)"))) {
            try StreamedSplits.load(source: url.path, normalization: nil, testFraction: 0.2, validationFraction: 0.1,
                                    seed: 1, layout: StreamLayout(blockRows: 64, windowBlocks: 2))
        }
    }
}
