/// A set of samples held on the host: an n×d feature matrix in row-major order, the shape of one sample,
/// and optional integer labels.
///
/// Sample `i` is `features[i*d ..< (i+1)*d]` with `d = shape.reduce(1, *)`; an image sample has shape
/// `[channels, height, width]` (the digits are `[1, 8, 8]`), a table row `[columns]`. Image bytes and
/// half-precision files keep their values as stored (``storage``), in a quarter or half of the memory of floats,
/// on the host and, through ``DeviceDataset``, on the device; ``features`` reads them as `Float`.
public struct Dataset: Equatable, Sendable {
    /// A name for messages and reports (the file name, or `digits-train`).
    public var name: String
    /// The shape of one sample; its product is `dimension`.
    public var shape: [Int]
    /// The `count × dimension` values, sample after sample, as stored.
    public var storage: SampleStorage
    /// One label per sample, when the source has them.
    public var labels: [Int32]?

    /// A data set of `storage.count / shape.product` samples.
    ///
    /// - Precondition: `shape` is non-empty with positive extents, `storage.count` is a multiple of the
    ///   sample size, and `labels`, when given, has one entry per sample (loaders check these for files).
    public init(name: String, shape: [Int], storage: SampleStorage, labels: [Int32]? = nil) {
        precondition(!shape.isEmpty && shape.allSatisfy { $0 > 0 }, "sample shape \(shape) must have positive extents")
        let dimension = shape.reduce(1, *)
        precondition(storage.count % dimension == 0, "\(storage.count) values are not whole samples of \(shape)")
        precondition(labels == nil || labels!.count == storage.count / dimension, "one label per sample")
        self.name = name
        self.shape = shape
        self.storage = storage
        self.labels = labels
    }

    /// A data set of `features.count / shape.product` samples held as `Float`s.
    public init(name: String, shape: [Int], features: [Float], labels: [Int32]? = nil) {
        self.init(name: name, shape: shape, storage: .float32(features), labels: labels)
    }

    /// `count × dimension` values, sample after sample, as `Float`s (widened from ``storage`` when it holds bytes
    /// or halves); setting them stores `Float`s.
    ///
    /// Bytes and halves are widened into a new array at every read: read it once into a local, not per element.
    public var features: [Float] {
        get { storage.floats }
        set { storage = .float32(newValue) }
    }

    /// The number of samples, n.
    public var count: Int { storage.count / dimension }

    /// Values per sample, d = ∏ shape.
    public var dimension: Int { shape.reduce(1, *) }

    /// The features of sample `index`.
    public func sample(_ index: Int) -> [Float] {
        storage.floats(index * dimension ..< (index + 1) * dimension)
    }

    /// The samples at `indices`, in that order (repeats allowed), kept as stored.
    ///
    /// - Precondition: every index is in `0..<count`.
    public func subset(_ indices: [Int], name: String? = nil) -> Dataset {
        for index in indices {
            precondition(index >= 0 && index < count, "sample index \(index) outside 0..<\(count)")
        }
        return Dataset(name: name ?? self.name, shape: shape, storage: storage.rows(indices, width: dimension),
                       labels: labels.map { all in indices.map { all[$0] } })
    }

    /// Two data sets are equal when their names, shapes, labels and values read as `Float` are, however stored.
    public static func == (a: Dataset, b: Dataset) -> Bool {
        a.name == b.name && a.shape == b.shape && a.labels == b.labels
            && (a.storage == b.storage || a.features == b.features)
    }

    /// A seeded random split into a training part of `round(fraction × count)` samples and the rest.
    ///
    /// The permutation is a Fisher–Yates shuffle driven by `SplitMix64(seed:)`, so the same seed gives the
    /// same split on every machine. Samples keep their shuffled order in both parts.
    /// - Throws: `invalidArgument` when `fraction` is not within [0, 1].
    public func split(seed: UInt64, fraction: Double) throws -> (train: Dataset, test: Dataset) {
        guard fraction.isFinite, (0...1).contains(fraction) else {
            throw DataError(file: name, .invalidArgument("split fraction \(fraction) is not within [0, 1]"))
        }
        let order = SplitMix64.permutation(count: count, seed: seed)
        let trainCount = Int((fraction * Double(count)).rounded())
        return (subset(Array(order[..<trainCount]), name: name + "-train"),
                subset(Array(order[trainCount...]), name: name + "-test"))
    }

    /// The samples whose label is in `keep`, in their original order.
    ///
    /// - Throws: `invalidArgument` when the data set has no labels.
    public func filter(labels keep: Set<Int32>) throws -> Dataset {
        guard let labels else { throw DataError(file: name, .invalidArgument("cannot filter by label: no labels")) }
        let indices = labels.indices.filter { keep.contains(labels[$0]) }
        return subset(indices)
    }

    /// The samples whose label is `label`.
    public func filter(label: Int32) throws -> Dataset { try filter(labels: [label]) }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a 64-bit state advanced by the golden-ratio increment and mixed,
/// a small, fast, well-distributed generator used to make shuffles reproducible from a seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits: `z = state += 0x9E3779B97F4A7C15`, then two xor-shift-multiply rounds.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `0..<upperBound` (Lemire's multiply-shift with rejection, so unbiased).
    ///
    /// - Precondition: `upperBound > 0`.
    public mutating func next(upperBound: UInt64) -> UInt64 {
        precondition(upperBound > 0, "upper bound must be positive")
        let threshold = (0 &- upperBound) % upperBound
        while true {
            let (high, low) = next().multipliedFullWidth(by: upperBound)
            if low >= threshold { return high }
        }
    }
}

extension SplitMix64 {
    /// A Fisher–Yates shuffle of `0..<count` driven by `SplitMix64(seed:)`: the same seed gives the same order on
    /// every machine.
    public static func permutation(count: Int, seed: UInt64) -> [Int] {
        var generator = SplitMix64(seed: seed)
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) {
            order.swapAt(i, Int(generator.next(upperBound: UInt64(i + 1))))
        }
        return order
    }

    /// `k` distinct indices of `0..<count` (all of them, shuffled, when k ≥ count), drawn uniformly by
    /// `SplitMix64(seed:)`: the first k positions of a forward Fisher–Yates shuffle, in O(k) memory, since only
    /// the positions it displaced are remembered.
    public static func sample(_ k: Int, of count: Int, seed: UInt64) -> [Int] {
        var generator = SplitMix64(seed: seed)
        var displaced: [Int: Int] = [:]
        var picked: [Int] = []
        picked.reserveCapacity(min(k, count))
        for i in 0..<min(k, count) {
            let j = i + Int(generator.next(upperBound: UInt64(count - i)))
            picked.append(displaced[j] ?? j)
            displaced[j] = displaced[i] ?? i
            displaced[i] = nil
        }
        return picked
    }
}
