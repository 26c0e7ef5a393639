import Foundation

/// Which optimizer trains the model.
public enum OptimizerKind: String, Codable, CaseIterable, Sendable {
    case adam, adamw, sgd
}

/// What to do when a training loss is NaN or infinite.
public enum NonFinitePolicy: String, Codable, CaseIterable, Sendable {
    /// Stop with an error; the last checkpoint written stays the last good one.
    case stop
    /// Skip the update of that batch (the loss is then read back every step).
    case skip
}

/// How a run trains: everything besides the model's definition. Stored in a run's `config.json`.
public struct TrainingConfig: Codable, Equatable, Sendable {
    public var epochs: Int = 20
    public var batchSize: Int = 64
    public var optimizer: OptimizerKind = .adam
    public var learningRate: Double = 1e-3
    public var weightDecay: Double = 0
    /// SGD momentum.
    public var momentum: Double = 0.9
    public var learningRateSchedule: LearningRateSchedule = .constant
    /// Clip the global gradient norm to this value.
    public var gradientClip: Double?
    public var klSchedule: KLSchedule = .constant
    /// Fraction of the training data held out for validation (0 for none).
    public var validationFraction: Double = 0.1
    /// Stop after this many epochs without a better validation loss.
    public var earlyStoppingPatience: Int?
    /// Write a checkpoint every this many epochs (0 for none).
    public var checkpointEvery: Int = 1
    /// The run's seed: initialization, data order and every random draw.
    public var seed: UInt64 = 0
    public var onNonFinite: NonFinitePolicy = .stop
    /// The order of each epoch's rows; nil: a full permutation (``EpochOrder/permutation``).
    public var epochOrder: EpochOrder?

    public init() {}

    /// Checks the values; the message says what would work.
    public func validate(trainingSamples: Int) throws {
        guard epochs > 0 else { throw ConfigError.invalid("--epochs must be positive, got \(epochs)") }
        guard batchSize > 0 else { throw ConfigError.invalid("--batch-size must be positive, got \(batchSize)") }
        guard batchSize <= trainingSamples else {
            throw ConfigError.invalid("--batch-size \(batchSize) is larger than the \(trainingSamples) training samples: use --batch-size \(max(1, trainingSamples)) or less")
        }
        guard learningRate > 0, learningRate.isFinite else { throw ConfigError.invalid("--lr must be positive") }
        guard validationFraction >= 0, validationFraction < 1 else {
            throw ConfigError.invalid("--validation must lie in [0, 1)")
        }
        if let gradientClip, !(gradientClip > 0) { throw ConfigError.invalid("--clip must be positive") }
        try epochOrder?.validate()
    }
}
