/// Philox4x32-10, the counter-based generator behind every random draw, bit-identical to
/// `Kernels/common.cl` so that the CPU and OpenCL backends draw the same numbers.
enum Philox {
    static let m0: UInt32 = 0xD251_1F53
    static let m1: UInt32 = 0xCD9E_8D57
    static let w0: UInt32 = 0x9E37_79B9
    static let w1: UInt32 = 0xBB67_AE85

    /// Ten rounds over counter `c` with key `k`.
    @inline(__always)
    static func block(_ c: (UInt32, UInt32, UInt32, UInt32), key: (UInt32, UInt32)) -> (UInt32, UInt32, UInt32, UInt32) {
        var c = c
        var k = key
        for _ in 0..<10 {
            let p0 = UInt64(m0) &* UInt64(c.0)
            let p1 = UInt64(m1) &* UInt64(c.2)
            c = (UInt32(truncatingIfNeeded: p1 >> 32) ^ c.1 ^ k.0, UInt32(truncatingIfNeeded: p1),
                 UInt32(truncatingIfNeeded: p0 >> 32) ^ c.3 ^ k.1, UInt32(truncatingIfNeeded: p0))
            k.0 = k.0 &+ w0
            k.1 = k.1 &+ w1
        }
        return c
    }

    /// Block number `index` of a stream.
    @inline(__always)
    static func block(_ random: RandomStream, _ index: UInt64) -> (UInt32, UInt32, UInt32, UInt32) {
        block((UInt32(truncatingIfNeeded: index), UInt32(truncatingIfNeeded: index >> 32),
               UInt32(truncatingIfNeeded: random.stream), UInt32(truncatingIfNeeded: random.stream >> 32)),
              key: (UInt32(truncatingIfNeeded: random.seed), UInt32(truncatingIfNeeded: random.seed >> 32)))
    }

    @inline(__always)
    static func word(_ r: (UInt32, UInt32, UInt32, UInt32), _ i: Int) -> UInt32 {
        switch i & 3 {
        case 0: return r.0
        case 1: return r.1
        case 2: return r.2
        default: return r.3
        }
    }

    /// A word to a float in [0, 1).
    @inline(__always)
    static func unit(_ w: UInt32) -> Float { Float(w >> 8) * 5.9604644775390625e-8 }

    /// Element `i` of a uniform [0, 1) stream.
    @inline(__always)
    static func uniform(_ random: RandomStream, _ i: Int) -> Float {
        unit(word(block(random, UInt64(i) >> 2), i))
    }
}
