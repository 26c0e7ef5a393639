import CPUKernels
import Foundation

extension CPUDevice: RandomPrimitives {
    public func fillUniform(_ x: BufferSlice, low: Float, high: Float, random: RandomStream) {
        check(x, count: x.count)
        let y = x.floats, width = high - low
        forEachUniform(x.count, random) { i, u in y[i] = low + width * u }
    }

    public func fillNormal(_ x: BufferSlice, mean: Float, std: Float, random: RandomStream) {
        check(x, count: x.count)
        let y = x.floats
        forEachNormal(x.count, random) { i, n in y[i] = mean + std * n }
    }

    public func fillBernoulli(_ x: BufferSlice, keep: Float, scale: Float, random: RandomStream) {
        check(x, count: x.count)
        let y = x.floats
        forEachUniform(x.count, random) { i, u in y[i] = u < keep ? scale : 0 }
    }

    public func corrupt(_ x: BufferSlice, into y: BufferSlice, corruption: Corruption, random: RandomStream) {
        check(x, count: y.count)
        check(y, count: x.count)
        let src = x.floats, dst = y.floats
        switch corruption {
        case .gaussian(let sigma):
            forEachNormal(x.count, random) { i, n in dst[i] = src[i] + sigma * n }
        case .masking(let p):
            forEachUniform(x.count, random) { i, u in dst[i] = u < p ? 0 : src[i] }
        case .saltAndPepper(let p, let low, let high):
            let half = p * 0.5
            forEachUniform(x.count, random) { i, u in dst[i] = u < half ? low : (u < p ? high : src[i]) }
        }
    }

    /// Calls `body(i, u)` for every element `i < count` with its uniform [0, 1) draw, stream element
    /// `random.offset + i`: all four words of each Philox block are used, blocks spread over the cores.
    @inline(__always)
    private func forEachUniform(_ count: Int, _ random: RandomStream, _ body: (Int, Float) -> Void) {
        let skip = Int(random.offset % 4), firstBlock = random.offset / 4
        Parallel.chunks((skip + count + 3) / 4, grain: 2048) { blocks in
            for b in blocks {
                let r = Philox.block(random, firstBlock + UInt64(b))
                let i = b * 4 - skip
                if i >= 0 && i + 4 <= count {
                    body(i, Philox.unit(r.0))
                    body(i + 1, Philox.unit(r.1))
                    body(i + 2, Philox.unit(r.2))
                    body(i + 3, Philox.unit(r.3))
                } else {
                    for k in max(0, -i)..<min(4, count - i) { body(i + k, Philox.unit(Philox.word(r, k))) }
                }
            }
        }
    }

    /// Calls `body(i, n)` for every element `i < count` with its standard normal draw, stream element
    /// `random.offset + i`: one Box–Muller pair per Philox block (stream elements 2b and 2b + 1:
    /// √(−2 ln u₁)·(cos 2πu₂, sin 2πu₂) from words 0 and 1), drawn ``normalBlock`` pairs at a time by `aek_normals`
    /// (vectorized) into a stack buffer.
    @inline(__always)
    func forEachNormal(_ count: Int, _ random: RandomStream, _ body: (Int, Float) -> Void) {
        let skip = Int(random.offset % 2), firstPair = random.offset / 2
        // A Box–Muller pair costs a few ns vectorized: split from 1,024 pairs on.
        Parallel.chunks((skip + count + 1) / 2, grain: 1024) { pairs in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * Self.normalBlock) { buffer in
                let values = buffer.baseAddress!
                var pair = pairs.lowerBound
                while pair < pairs.upperBound {
                    let block = min(Self.normalBlock, pairs.upperBound - pair)
                    // values[j] is view element first + j (negative: before the view)
                    let first = 2 * pair - skip, drawn = min(2 * block, count - first)
                    aek_normals(random.seed, random.stream, firstPair + UInt64(pair), drawn, values)
                    for j in max(0, -first)..<drawn { body(first + j, values[j]) }
                    pair += block
                }
            }
        }
    }

    /// Normal pairs drawn per call of `aek_normals`: 2 KiB of stack.
    private static let normalBlock = 256
}
