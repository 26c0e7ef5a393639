import Compute

/// How a ``Dataset`` holds its values: as `Float`, or as the file stored them, widened to `Float` when read.
///
/// Image bytes kept as bytes take a quarter of the memory of their floats, half-precision values half, on the
/// host and on the device: ``DeviceDataset`` uploads them as stored and converts them as it gathers each batch
/// (``ReductionPrimitives/gatherRows(_:indices:cols:scale:shift:into:)``), to exactly the floats ``floats``
/// reads on the host.
public enum SampleStorage: Equatable, Sendable {
    /// Values as they are.
    case float32([Float])
    /// Bytes b, read as b · ``byteScale`` (b / 255 rounded once more, within one ulp of it), so 0–255 maps to [0, 1].
    case uint8([UInt8])
    /// IEEE 754 half-precision bit patterns, read exactly.
    case float16([UInt16])

    /// The factor a stored byte is read with, 1/255 rounded to `Float`: the host loaders and the device's gather
    /// both compute b · byteScale, so they agree bit for bit.
    public static let byteScale: Float = 1 / 255

    /// Number of values.
    public var count: Int {
        switch self {
        case .float32(let values): values.count
        case .uint8(let bytes): bytes.count
        case .float16(let bits): bits.count
        }
    }

    /// The element type the values are held in.
    public var dtype: DType {
        switch self {
        case .float32: .float32
        case .uint8: .uint8
        case .float16: .float16
        }
    }

    /// Bytes the values take.
    public var byteCount: Int { count * dtype.size }

    /// The factor the device's gather applies to a stored value of `dtype` to read it as ``floats`` does.
    static func gatherScale(_ dtype: DType) -> Float { dtype == .uint8 ? byteScale : 1 }

    /// What the device's gather adds after scaling: −0, which leaves every value as it is (v + (−0) = v, and −0
    /// stays −0, where + 0 would turn a half's −0 into +0).
    static let gatherShift: Float = -0.0

    /// Every value as a `Float`.
    public var floats: [Float] {
        switch self {
        case .float32(let values): values
        default: floats(0..<count)
        }
    }

    /// The values at positions `range`, as `Float`s.
    public func floats(_ range: Range<Int>) -> [Float] {
        switch self {
        case .float32(let values): Array(values[range])
        case .uint8(let bytes): bytes[range].map { Float($0) * Self.byteScale }
        case .float16(let bits): bits[range].map(Half.float)
        }
    }

    /// The values, kept as stored, of the rows of `width` values at `rows`, in that order.
    func rows(_ rows: [Int], width: Int) -> SampleStorage {
        func pick<T>(_ values: [T]) -> [T] {
            var picked = [T]()
            picked.reserveCapacity(rows.count * width)
            for row in rows { picked.append(contentsOf: values[row * width ..< (row + 1) * width]) }
            return picked
        }
        switch self {
        case .float32(let values): return .float32(pick(values))
        case .uint8(let bytes): return .uint8(pick(bytes))
        case .float16(let bits): return .float16(pick(bits))
        }
    }

    /// The values of a device buffer of `dtype` (`uint8`, `float16` or `float32`) read back as `bytes`.
    init(deviceBytes bytes: [UInt8], dtype: DType) {
        switch dtype {
        case .uint8: self = .uint8(bytes)
        case .float16: self = .float16(bytes.withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) })
        default: self = .float32(bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) })
        }
    }

    /// The values' bytes as the device stores them (little-endian, like every buffer).
    var deviceBytes: [UInt8] {
        switch self {
        case .float32(let values): values.withUnsafeBytes { Array($0) }
        case .uint8(let bytes): bytes
        case .float16(let bits): bits.withUnsafeBytes { Array($0) }
        }
    }
}
