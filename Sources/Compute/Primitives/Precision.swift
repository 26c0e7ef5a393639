/// The arithmetic of matrix products.
public enum MatmulPrecision: String, CaseIterable, Codable, Sendable {
    /// IEEE single precision throughout (the default).
    case fp32
    /// Inputs rounded to TF32 (8-bit exponent, 10-bit mantissa: relative rounding error ≤ 2⁻¹¹), products
    /// accumulated in FP32 on tensor cores. About 3× the FP32 throughput of an NVIDIA GPU since Ampere.
    case tf32
}

/// The answer to a request for TF32 products.
public enum TF32Availability: Equatable, Sendable, CustomStringConvertible {
    /// TF32 products are on: the device's large products now run at ``MatmulPrecision/tf32``.
    case available
    /// Products stay FP32, for the reason given (one line naming the device).
    case unavailable(reason: String)

    public var description: String {
        switch self {
        case .available: return "available"
        case .unavailable(let reason): return "unavailable: \(reason)"
        }
    }
}

/// Choosing the precision of a device's matrix products (``GEMMPrimitives/gemm(_:transposeA:_:transposeB:into:m:n:k:alpha:beta:bias:activation:)``).
///
/// Devices start in ``MatmulPrecision/fp32``. TF32 is opt-in: ``enableTF32()`` checks that the device has
/// TF32 tensor cores and that a probe product agrees with FP32 (relative error ≤ 5·10⁻³, no NaN) before any
/// product uses them.
public protocol PrecisionPrimitives: AnyObject {
    /// The precision large products currently run at.
    var matmulPrecision: MatmulPrecision { get }
    /// Asks for TF32 products. On ``TF32Availability/available`` they are on; otherwise products stay FP32
    /// and the reason says why. The probe runs once per device; later calls repeat its answer.
    @discardableResult
    func enableTF32() -> TF32Availability
    /// Returns to FP32 products.
    func disableTF32()
}

