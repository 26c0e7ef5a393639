/// An N-dimensional array in host memory, in C (row-major) order, as the file formats read and write it.
public struct HostTensor: Equatable, Sendable {
    /// The element values, with their type.
    public enum Elements: Equatable, Sendable {
        /// IEEE 754 single precision (`<f4`, `F32`).
        case float32([Float])
        /// IEEE 754 double precision (`<f8`, `F64`).
        case float64([Double])
        /// Signed 32-bit integers (`<i4`, `I32`).
        case int32([Int32])
        /// Signed 64-bit integers (`<i8`, `I64`).
        case int64([Int64])
        /// Unsigned bytes (`|u1`, `U8`, IDX 0x08).
        case uint8([UInt8])

        /// The number of elements.
        public var count: Int {
            switch self {
            case .float32(let v): return v.count
            case .float64(let v): return v.count
            case .int32(let v): return v.count
            case .int64(let v): return v.count
            case .uint8(let v): return v.count
            }
        }

        /// Bytes per element.
        public var elementSize: Int {
            switch self {
            case .float32, .int32: return 4
            case .float64, .int64: return 8
            case .uint8: return 1
            }
        }
    }

    /// The extent of each axis; `[]` is a scalar.
    public var shape: [Int]
    /// The values; `elements.count` is the product of `shape`.
    public var elements: Elements

    /// A tensor of `shape` holding `elements`. The element count must equal the product of the shape.
    public init(shape: [Int], elements: Elements) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in \(shape)")
        precondition(checkedProduct(shape) == elements.count, "shape \(shape) does not hold \(elements.count) elements")
        self.shape = shape
        self.elements = elements
    }

    /// A float32 tensor.
    public init(shape: [Int], float32 values: [Float]) { self.init(shape: shape, elements: .float32(values)) }

    /// An int32 tensor.
    public init(shape: [Int], int32 values: [Int32]) { self.init(shape: shape, elements: .int32(values)) }

    /// The values as a data set keeps them: bytes as stored (read scaled by 1/255), everything else as finite
    /// `Float`s (``finiteFloats(file:)``).
    func sampleStorage(file: String) throws -> SampleStorage {
        if case .uint8(let bytes) = elements { return .uint8(bytes) }
        return .float32(try finiteFloats(file: file))
    }

    /// The values widened or narrowed to `Float` (integers exactly up to 2^24; float64 rounded).
    ///
    /// Throws `nonFinite` for a NaN or infinite value, or a float64 outside the float32 range, naming the
    /// first such element's flat index, so a data set never carries them into training.
    public func finiteFloats(file: String) throws -> [Float] {
        switch elements {
        case .float32(let v):
            if let bad = v.firstIndex(where: { !$0.isFinite }) {
                throw DataError(file: file, .nonFinite("element \(bad) is \(v[bad])"))
            }
            return v
        case .float64(let v):
            let narrowed = v.map { Float($0) }
            if let bad = narrowed.firstIndex(where: { !$0.isFinite }) {
                throw DataError(file: file, .nonFinite("element \(bad) is \(v[bad])"))
            }
            return narrowed
        case .int32(let v): return v.map { Float($0) }
        case .int64(let v): return v.map { Float($0) }
        case .uint8(let v): return v.map { Float($0) }
        }
    }

    /// The values as `Int32` labels; throws `malformed` for a float or out-of-range value.
    public func labels(file: String) throws -> [Int32] {
        func outOfRange(_ index: Int, _ value: String) -> DataError {
            DataError(file: file, .malformed("label \(index) is \(value), not an Int32"))
        }
        switch elements {
        case .uint8(let v): return v.map { Int32($0) }
        case .int32(let v): return v
        case .int64(let v):
            return try v.enumerated().map { i, x in
                guard let label = Int32(exactly: x) else { throw outOfRange(i, "\(x)") }
                return label
            }
        case .float32, .float64:
            throw DataError(file: file, .unsupported("labels must be integers, found floating-point values"))
        }
    }
}

extension HostTensor {
    /// Throws `nonFinite` naming `tensor` when a float element is NaN or infinite.
    func checkFinite(file: String, tensor name: String) throws {
        let bad: Int?
        switch elements {
        case .float32(let v): bad = v.firstIndex { !$0.isFinite }
        case .float64(let v): bad = v.firstIndex { !$0.isFinite }
        default: bad = nil
        }
        if let bad {
            throw DataError(file: file, .nonFinite("element \(bad) of tensor \(DataError.quoted(name))"))
        }
    }
}

extension HostTensor.Elements {
    /// Appends the values as little-endian bytes, the element layout of both `.npy` and safetensors files.
    func appendLittleEndian(to bytes: inout [UInt8]) {
        switch self {
        case .float32(let v): Autoencoders.appendLittleEndian(v.map(\.bitPattern), to: &bytes)
        case .float64(let v): Autoencoders.appendLittleEndian(v.map(\.bitPattern), to: &bytes)
        case .int32(let v): Autoencoders.appendLittleEndian(v.map { UInt32(bitPattern: $0) }, to: &bytes)
        case .int64(let v): Autoencoders.appendLittleEndian(v.map { UInt64(bitPattern: $0) }, to: &bytes)
        case .uint8(let v): bytes += v
        }
    }
}
