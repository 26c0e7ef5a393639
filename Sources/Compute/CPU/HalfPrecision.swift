/// IEEE 754 half precision (binary16) read on the host, without relying on `Float16` (unavailable on some
/// platforms' Swift, and converted through a library call on x86-64 without F16C).
enum HalfPrecision {
    /// The `Float` a half's bit pattern holds, exactly: every half is a `Float` (subnormal halves are normal
    /// floats), ±0 keeps its sign, ±∞ stays infinite and a NaN keeps its sign and payload.
    @inline(__always)
    static func float(bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        let magnitude: UInt32
        if exponent == 0 {
            // zero or subnormal: mantissa · 2⁻²⁴, exact (at most 10 significant bits)
            magnitude = (Float(mantissa) * 0x1p-24).bitPattern
        } else if exponent == 0x1F {
            magnitude = 0x7F80_0000 | mantissa << 13
        } else {
            // rebias the exponent from 15 to 127 and widen the mantissa from 10 to 23 bits
            magnitude = (exponent + 112) << 23 | mantissa << 13
        }
        return Float(bitPattern: sign | magnitude)
    }
}
