@testable import Compute
import Foundation

/// The normal stream's definition with the C library's ln, sin and cos: the reference the backends' draws
/// (the CPU's polynomial `aek_normals`, the OpenCL kernels') are checked against.
extension Philox {
    /// The standard normal pair of block `index` (Box–Muller on words 0 and 1): elements 2·index (cos)
    /// and 2·index + 1 (sin) of a normal stream.
    static func normalPair(_ random: RandomStream, _ index: UInt64) -> (Float, Float) {
        let r = block(random, index)
        let u1 = Float((r.0 >> 8) + 1) * 5.9604644775390625e-8
        let u2 = Float(r.1 >> 8) * 5.9604644775390625e-8
        let radius = (-2 * logf(u1)).squareRoot()
        let theta = 6.283185307179586 * u2
        return (radius * cosf(theta), radius * sinf(theta))
    }

    /// Element `i` of a standard normal stream (Box–Muller on words 0 and 1 of block i/2).
    static func normal(_ random: RandomStream, _ i: Int) -> Float {
        let pair = normalPair(random, UInt64(i) >> 1)
        return i & 1 == 1 ? pair.1 : pair.0
    }
}
