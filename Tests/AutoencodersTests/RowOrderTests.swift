@testable import Autoencoders
import Testing

/// Orders computed a stretch at a time are the orders computed whole: the windowed epoch order a window at a
/// time, a rank's part of it, and the latents' upkeep's draws of distinct rows in O(draws) memory.
@Suite struct RowOrderTests {
    /// The windowed order as it was computed whole: blocks in a seeded order, then each window shuffled in place.
    static func wholeWindowed(count: Int, blockRows: Int, windowBlocks: Int, seed: UInt64, epoch: Int) -> [Int32] {
        let epochKey = seed ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15) ^ 0x0B10_C5ED_0000_0001
        let blocks = (count + blockRows - 1) / blockRows
        var order: [Int32] = []
        for block in SplitMix64.permutation(count: blocks, seed: epochKey) {
            order += ((block * blockRows)..<min(count, (block + 1) * blockRows)).map { Int32($0) }
        }
        let window = blockRows * windowBlocks
        for (index, start) in stride(from: 0, to: count, by: window).enumerated() {
            var generator = SplitMix64(seed: epochKey ^ (UInt64(index) &* 0xD6E8_FEB8_6659_FD93))
            let end = min(count, start + window)
            for i in stride(from: end - 1, to: start, by: -1) {
                order.swapAt(i, start + Int(generator.next(upperBound: UInt64(i - start + 1))))
            }
        }
        return order
    }

    @Test(arguments: [(1000, 16, 3), (1000, 7, 1), (64, 64, 4), (5, 2, 2), (999, 100, 20)])
    func aWindowedOrderComputedAWindowAtATimeIsTheWholeOrder(count: Int, blockRows: Int, windowBlocks: Int) {
        for epoch in 0..<3 {
            let whole = Self.wholeWindowed(count: count, blockRows: blockRows, windowBlocks: windowBlocks, seed: 7, epoch: epoch)
            let order = EpochOrder.windowed(blockRows: blockRows, windowBlocks: windowBlocks).order(count: count, seed: 7, epoch: epoch)
            #expect(order.count == count && order.all == whole, "\(count) \(blockRows) \(windowBlocks) epoch \(epoch)")
            #expect(Set(whole).count == count && whole.allSatisfy { $0 >= 0 && $0 < count })
            // any stretch, across window boundaries too
            for range in [0..<0, 0..<1, (count / 3)..<(count - count / 4), (count - 1)..<count] {
                #expect(order.rows(range) == Array(whole[range]), "\(range)")
            }
        }
    }

    @Test(arguments: [2, 3, 4])
    func aRanksPartTakesItsRowsOfEveryWholeGlobalBatch(ranks: Int) {
        let globalBatch = 12, count = 100
        let base = EpochOrder.windowed(blockRows: 8, windowBlocks: 2).order(count: count, seed: 3, epoch: 1)
        let whole = base.all, local = globalBatch / ranks
        var union: [Int32] = []
        for rank in 0..<ranks {
            var expected: [Int32] = []
            for start in stride(from: 0, to: count - globalBatch + 1, by: globalBatch) {
                expected += whole[(start + rank * local)..<(start + (rank + 1) * local)]
            }
            let part = base.local(rank: rank, ranks: ranks, globalBatch: globalBatch)
            #expect(part.all == expected, "rank \(rank) of \(ranks)")
            #expect(part.rows(5..<(part.count - 3)) == Array(expected[5..<(expected.count - 3)]))
            union += expected
        }
        // the ranks share out the whole global batches (96 rows), each row once
        #expect(Set(union).count == count / globalBatch * globalBatch && union.count == count / globalBatch * globalBatch)
        #expect(base.local(rank: 0, ranks: 1, globalBatch: globalBatch).all == whole)
        #expect(RowOrder.sequential(5).all == [0, 1, 2, 3, 4] && RowOrder([4, 2]).rows(1..<2) == [2])
    }

    @Test func drawsAreDistinctSeededAndUniform() {
        let drawn = SplitMix64.sample(300, of: 1_000_000, seed: 9)
        #expect(drawn.count == 300 && Set(drawn).count == 300 && drawn.allSatisfy { (0..<1_000_000).contains($0) })
        #expect(drawn == SplitMix64.sample(300, of: 1_000_000, seed: 9) && drawn != SplitMix64.sample(300, of: 1_000_000, seed: 10))
        // more draws than rows: every row once, shuffled
        let all = SplitMix64.sample(50, of: 20, seed: 1)
        #expect(all.sorted() == Array(0..<20) && all != Array(0..<20))
        // each of 10 rows is among 3 drawn in about 3/10 of 20,000 draws (binomial σ ≈ 65)
        var hits = [Int](repeating: 0, count: 10)
        for seed in 0..<20_000 { for row in SplitMix64.sample(3, of: 10, seed: UInt64(seed)) { hits[row] += 1 } }
        #expect(hits.allSatisfy { abs($0 - 6000) < 400 }, "\(hits)")
    }
}
