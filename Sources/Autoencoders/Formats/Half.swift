/// IEEE 754 binary16 (numpy's `float16`, `<f2`) widened to `Float`, exactly: normals, subnormals, ±0, ±∞ and NaN.
enum Half {
    /// Whether the half-precision bit pattern `bits` is finite (its exponent is not all ones: ±∞ and NaN are).
    static func isFinite(_ bits: UInt16) -> Bool { bits & 0x7C00 != 0x7C00 }

    /// The float value of the half-precision bit pattern `bits`.
    static func float(_ bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = Int(bits >> 10 & 0x1F), mantissa = UInt32(bits & 0x3FF)
        switch exponent {
        case 0:
            // ±0 and subnormals: mantissa · 2⁻²⁴, exact in Float
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 0x1F:
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        default:
            return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | mantissa << 13)
        }
    }
}
