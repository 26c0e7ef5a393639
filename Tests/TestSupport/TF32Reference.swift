import Foundation

/// The TF32 value of x computed from its definition: x rounded to 11 significant bits (1 + 10 stored),
/// to nearest with ties away from zero, at x's own binade; subnormals on TF32's fixed grid of 2⁻¹³⁶
/// (the smallest exponent, −126, less 10 mantissa bits).
public func referenceTF32(_ x: Float) -> Float {
    guard x.isFinite, x != 0 else { return x }
    let quantum = Double(sign: .plus, exponent: max(Int(x.exponent) - 10, -136), significand: 1)
    let rounded = (Double(x) / quantum).rounded(.toNearestOrAwayFromZero) * quantum
    return Float(rounded)  // exact, or ±infinity when rounding passes the largest float
}
