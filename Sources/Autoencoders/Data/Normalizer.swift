/// A per-feature affine normalization fitted on training data: y = (x − shift) / divisor, inverted by
/// x = y · divisor + shift.
///
/// - `none`: shift 0, divisor 1.
/// - `minmax`: shift = minᵢ xᵢⱼ, divisor = maxᵢ xᵢⱼ − minᵢ xᵢⱼ, so training values land in [0, 1].
/// - `zscore`: shift = mean μⱼ, divisor = population standard deviation σⱼ = √(Σᵢ(xᵢⱼ − μⱼ)² / n).
///
/// A constant feature (divisor 0) gets divisor 1, so it maps to 0 instead of dividing by zero. Statistics
/// are accumulated in Double. Codable, so a run can store it in its configuration and apply it again.
public struct Normalizer: Codable, Equatable, Sendable {
    /// The normalization rule.
    public enum Method: String, Codable, CaseIterable, Sendable {
        /// Identity: y = x.
        case none
        /// y = (x − min) / (max − min), per feature.
        case minmax
        /// y = (x − μ) / σ, per feature.
        case zscore
    }

    /// The rule this normalizer was fitted with.
    public let method: Method
    /// Per-feature value subtracted first.
    public let shift: [Float]
    /// Per-feature positive divisor applied after the shift.
    public let divisor: [Float]

    /// The number of features it was fitted on.
    public var dimension: Int { shift.count }

    /// Fits `method` on every feature of `training`.
    public init(_ method: Method, fittedOn training: Dataset) {
        self.init(method, dimension: training.dimension, count: training.count) { body in
            training.features.withUnsafeBufferPointer { body($0) }
        }
    }

    /// Fits `method` on the rows `ranges` of `source` (default: all), read a block of rows at a time: the
    /// normalizer of data streamed from disk, equal to the one fitted on the same rows loaded whole.
    public init(_ method: Method, fittedOn source: any RowSource, ranges: [Range<Int>]? = nil, blockRows: Int = 4096) throws {
        let ranges = ranges ?? [0..<source.count]
        try self.init(method, dimension: source.dimension, count: ranges.reduce(0) { $0 + $1.count }) { body in
            try source.forEachBlock(of: ranges, blockRows: blockRows) { body(UnsafeBufferPointer($0)) }
        }
    }

    /// Fits `method` on `count` rows of `d` features that `rows` hands to its body, a block of whole rows at a
    /// time, in order (it is called once for min-max, twice for z-scores); statistics accumulate in Double.
    init(_ method: Method, dimension d: Int, count n: Int,
         rows: ((UnsafeBufferPointer<Float>) -> Void) throws -> Void) rethrows {
        var shift = [Double](repeating: 0, count: d)
        var divisor = [Double](repeating: 1, count: d)
        switch method {
        case .none:
            break
        case .minmax where n > 0:
            var low = [Float](repeating: .infinity, count: d)
            var high = [Float](repeating: -.infinity, count: d)
            try rows { x in
                for row in stride(from: 0, to: x.count, by: d) {
                    for j in 0..<d {
                        low[j] = min(low[j], x[row + j])
                        high[j] = max(high[j], x[row + j])
                    }
                }
            }
            for j in 0..<d {
                shift[j] = Double(low[j])
                divisor[j] = Double(high[j]) - Double(low[j])
            }
        case .zscore where n > 0:
            var sum = [Double](repeating: 0, count: d)
            try rows { x in
                for row in stride(from: 0, to: x.count, by: d) {
                    for j in 0..<d { sum[j] += Double(x[row + j]) }
                }
            }
            for j in 0..<d { shift[j] = sum[j] / Double(n) }
            var squares = [Double](repeating: 0, count: d)
            try rows { x in
                for row in stride(from: 0, to: x.count, by: d) {
                    for j in 0..<d {
                        let deviation = Double(x[row + j]) - shift[j]
                        squares[j] += deviation * deviation
                    }
                }
            }
            for j in 0..<d { divisor[j] = (squares[j] / Double(n)).squareRoot() }
        case .minmax, .zscore:
            break
        }
        self.method = method
        self.shift = shift.map { Float($0) }
        self.divisor = divisor.map { Float($0) > 0 && Float($0).isFinite ? Float($0) : 1 }
    }

    private enum CodingKeys: String, CodingKey {
        case method, shift, divisor
    }

    /// Decodes a stored normalizer, checking that shift and divisor have one entry per feature, are
    /// finite, and that every divisor is positive.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        method = try container.decode(Method.self, forKey: .method)
        shift = try container.decode([Float].self, forKey: .shift)
        divisor = try container.decode([Float].self, forKey: .divisor)
        guard shift.count == divisor.count else {
            throw DecodingError.dataCorruptedError(forKey: .divisor, in: container, debugDescription: "shift and divisor differ in length")
        }
        guard shift.allSatisfy(\.isFinite), divisor.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw DecodingError.dataCorruptedError(forKey: .divisor, in: container, debugDescription: "non-finite shift or non-positive divisor")
        }
    }

    /// `dataset` with every feature mapped to (x − shift) / divisor.
    ///
    /// - Throws: `mismatch` when the data set's dimension differs from the fitted one.
    public func apply(to dataset: Dataset) throws -> Dataset {
        try map(dataset) { x, shift, divisor in (x - shift) / divisor }
    }

    /// `dataset` mapped back to the original units: x = y · divisor + shift.
    ///
    /// - Throws: `mismatch` when the data set's dimension differs from the fitted one.
    public func invert(_ dataset: Dataset) throws -> Dataset {
        try map(dataset) { y, shift, divisor in y * divisor + shift }
    }

    /// Maps `values` (whole samples, row-major) back to the original units in place.
    ///
    /// - Precondition: `values.count` is a multiple of `dimension`.
    public func invert(_ values: inout [Float]) {
        transform(&values) { y, shift, divisor in y * divisor + shift }
    }

    /// Normalizes `values` (whole samples, row-major) in place.
    ///
    /// - Precondition: `values.count` is a multiple of `dimension`.
    public func apply(_ values: inout [Float]) {
        transform(&values) { x, shift, divisor in (x - shift) / divisor }
    }

    private func map(_ dataset: Dataset, _ f: (Float, Float, Float) -> Float) throws -> Dataset {
        guard dataset.dimension == dimension else {
            throw DataError(file: dataset.name, .mismatch("normalizer fitted on \(dimension) features, data has \(dataset.dimension)"))
        }
        // the identity keeps bytes and halves as stored
        if method == .none { return dataset }
        var result = dataset
        transform(&result.features, f)
        return result
    }

    private func transform(_ values: inout [Float], _ f: (Float, Float, Float) -> Float) {
        values.withUnsafeMutableBufferPointer { transform($0, f) }
    }

    /// Normalizes `values` (whole samples, row-major) in place, as ``apply(_:)-([Float])`` does.
    public func apply(_ values: UnsafeMutableBufferPointer<Float>) {
        transform(values) { x, shift, divisor in (x - shift) / divisor }
    }

    private func transform(_ x: UnsafeMutableBufferPointer<Float>, _ f: (Float, Float, Float) -> Float) {
        let d = dimension
        precondition(d > 0 && x.count % d == 0, "\(x.count) values are not whole samples of \(d) features")
        if method == .none { return }
        shift.withUnsafeBufferPointer { shift in
            divisor.withUnsafeBufferPointer { divisor in
                for row in stride(from: 0, to: x.count, by: d) {
                    for j in 0..<d { x[row + j] = f(x[row + j], shift[j], divisor[j]) }
                }
            }
        }
    }
}
