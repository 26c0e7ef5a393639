#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Float math for the CPU backend's hot loops: sixteen-lane loads, stores and square roots, and branch-free
/// scalar exponential and logarithm, which loops vectorize (the C library's `expf` and `logf`, one call per
/// value, keep them scalar).
///
/// `squareRoot` issues the SSE square-root instruction directly: `Float.squareRoot()` calls the C library's
/// `sqrtf` on Linux, which keeps loops around it from vectorizing. `exp` and `log` follow the Cephes single-precision algorithms (range reduction by ln 2 split into two
/// parts, then a minimax polynomial), accurate to about 2 ulp over their ranges.
enum VectorMath {
    typealias Vector = SIMD16<Float>
    static let width = 16
    /// 1.5·2²³: a float in [−2²², 2²²] plus this is rounded to an integer stored in the low mantissa bits.
    private static let roundingShift: Float = 12_582_912

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
    }

    @inline(__always)
    static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
    }

    /// √x lane by lane, correctly rounded (as `Float.squareRoot()`).
    @inline(__always)
    static func squareRoot(_ x: Vector) -> Vector {
        #if arch(x86_64)
        let low = x.lowHalf, high = x.highHalf
        return Vector(lowHalf: SIMD8(lowHalf: _mm_sqrt_ps(low.lowHalf), highHalf: _mm_sqrt_ps(low.highHalf)),
                      highHalf: SIMD8(lowHalf: _mm_sqrt_ps(high.lowHalf), highHalf: _mm_sqrt_ps(high.highHalf)))
        #else
        return x.squareRoot()
        #endif
    }

    /// eˣ: x = n·ln 2 + r with |r| ≤ ½ ln 2, e^r by a degree-6 polynomial, then 2ⁿ in the exponent bits.
    /// Inputs above 88.37 give +∞ and inputs below −87.33 give 0 (no subnormal results). Branch-free, so
    /// loops calling it vectorize.
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        let clamped = min(max(x, -87.33654), 88.37626)
        // n = round(x·log₂e): adding 1.5·2²³ rounds to an integer, held in the low mantissa bits
        let shifted = clamped * 1.442695041 + roundingShift
        let n = shifted - roundingShift
        let r = clamped - n * 0.693359375 + n * 2.12194440e-4
        var p: Float = 1.9875691500e-4
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let er = p * (r * r) + r + 1
        let integer = Int32(bitPattern: shifted.bitPattern) &- Int32(bitPattern: roundingShift.bitPattern)
        let result = er * Float(bitPattern: UInt32(bitPattern: (integer &+ 127) &<< 23))
        return x < -87.33654 ? 0 : (x > 88.37626 ? .infinity : result)
    }

    /// ln x for positive normal x: x = 2ᵉ·m with m in [√½, √2), ln m = f − f²/2 + f³·P(f) with f = m − 1.
    @inline(__always)
    static func log(_ x: Float) -> Float {
        let bits = Int32(bitPattern: x.bitPattern)
        // the biased exponent (0...255) as a float: its bits under the exponent of 2²³, minus 2²³
        let biased = Float(bitPattern: UInt32(bitPattern: (bits &>> 23) | 0x4B00_0000)) - 8_388_608
        let mantissa = Float(bitPattern: UInt32(bitPattern: (bits & 0x007F_FFFF) | 0x3F00_0000))  // in [0.5, 1)
        let small = mantissa < 0.707106781186547524
        let e = small ? biased - 127 : biased - 126
        let m = (small ? mantissa + mantissa : mantissa) - 1
        let z = m * m
        var y: Float = 7.0376836292e-2
        y = y * m - 1.1514610310e-1
        y = y * m + 1.1676998740e-1
        y = y * m - 1.2420140846e-1
        y = y * m + 1.4249322787e-1
        y = y * m - 1.6668057665e-1
        y = y * m + 2.0000714765e-1
        y = y * m - 2.4999993993e-1
        y = y * m + 3.3333331174e-1
        y = y * m * z
        y += e * -2.12194440e-4
        y -= z * 0.5
        return m + y + e * 0.693359375
    }
}
