/// IEEE 754 half precision (binary16) read on the host, without relying on `Float16` (unavailable on some
/// platforms' Swift, and converted through a library call on x86-64 without F16C).
enum HalfPrecision {
    /// The `Float` a half's bit pattern holds, exactly: every half is a `Float` (subnormal halves are normal
    /// floats), ±0 keeps its sign, ±∞ stays infinite and a NaN keeps its sign and payload.
    ///
    /// Every case is computed and one is selected, without branches, so a loop over halves vectorizes. The
    /// exponent is rebiased from 15 to 127 and the mantissa widened from 10 to 23 bits; infinities and NaNs take
    /// the top exponent; a subnormal m·2⁻²⁴ is formed as (2⁻¹⁴ + m·2⁻²⁴) − 2⁻¹⁴, exact, from normal floats only.
    @inline(__always)
    static func float(bits: UInt16) -> Float {
        let bits = UInt32(bits)
        let shifted = (bits & 0x7FFF) << 13
        let exponent = shifted & 0x0F80_0000
        let normal = shifted &+ 0x3800_0000
        let infinite = normal &+ 0x3800_0000
        let subnormal = (Float(bitPattern: normal &+ 0x0080_0000) - Float(bitPattern: 113 << 23)).bitPattern
        let magnitude = exponent == 0x0F80_0000 ? infinite : (exponent == 0 ? subnormal : normal)
        return Float(bitPattern: magnitude | (bits & 0x8000) << 16)
    }
}
