/// How a parameter or state tensor starts out.
public enum ParameterInitializer: Equatable, Sendable {
    /// Uniform draws in [low, high) (PyTorch's Linear and Conv defaults use ±1/√fan_in).
    case uniform(low: Float, high: Float)
    /// Every element equal to the value (BatchNorm's weight 1, bias 0, running variance 1).
    case constant(Float)

    /// U(−1/√fanIn, 1/√fanIn), PyTorch's default for Linear and Conv weights and biases.
    public static func fanIn(_ fanIn: Int) -> ParameterInitializer {
        let bound = 1 / Float(max(fanIn, 1)).squareRoot()
        return .uniform(low: -bound, high: bound)
    }
}

/// A trainable parameter, found in the store by ``ParameterStore/value(_:)-(ParameterID)``.
public struct ParameterID: Hashable, Sendable {
    /// Position among the parameters, in declaration order.
    public let index: Int
}

/// A non-trainable state tensor (running statistics), found by ``ParameterStore/state(_:)-(StateID)``.
public struct StateID: Hashable, Sendable {
    /// Position among the state entries, in declaration order.
    public let index: Int
}

/// One declared tensor: its PyTorch name, shape and initializer.
public struct ParameterDeclaration: Equatable, Sendable {
    /// The full dotted name, such as `encoder.0.weight`.
    public var name: String
    /// The tensor's shape in PyTorch's layout.
    public var shape: [Int]
    /// How it starts out.
    public var initializer: ParameterInitializer
    /// For state: an integer counter stored as float (BatchNorm's `num_batches_tracked`, an int64 in
    /// PyTorch state dicts). Always false for parameters.
    public var isInteger: Bool
    /// The random stream its initial values come from, counted from ``ParameterStore/initializationStream``:
    /// its position among the parameters, counting the streams kept for parameters a layer leaves out
    /// (``ParameterLayout/reserveInitializationStream()``). Unused by state.
    public var initializationStream = 0

    /// ∏ shape.
    public var count: Int { shape.reduce(1, *) }
}

/// The builder layers declare into: named parameters and state in declaration order.
///
/// ```swift
/// var layout = ParameterLayout()
/// model.declareParameters(in: &layout, prefix: "")
/// let store = try ParameterStore(device: device, layout: layout)
/// ```
public struct ParameterLayout: Sendable {
    /// Where a name points.
    public enum Entry: Equatable, Sendable {
        case parameter(Int)
        case state(Int)
    }

    /// Trainable parameters in declaration order.
    public private(set) var parameters: [ParameterDeclaration] = []
    /// Non-trainable state in declaration order.
    public private(set) var states: [ParameterDeclaration] = []
    /// Parameters and state interleaved as declared (the order of a PyTorch state dict).
    public private(set) var order: [Entry] = []
    /// Names declared twice (reported when the store is built).
    private(set) var duplicates: [String] = []
    private var names: Set<String> = []
    private var randomStreams = 0
    /// Initialization streams handed out: one per parameter, plus those reserved.
    public private(set) var initializationStreams = 0

    public init() {}

    /// Declares a trainable parameter.
    public mutating func parameter(_ name: String, shape: [Int], initializer: ParameterInitializer) -> ParameterID {
        record(name)
        var declaration = ParameterDeclaration(name: name, shape: shape, initializer: initializer, isInteger: false)
        declaration.initializationStream = initializationStreams
        initializationStreams += 1
        parameters.append(declaration)
        order.append(.parameter(parameters.count - 1))
        return ParameterID(index: parameters.count - 1)
    }

    /// Declares a non-trainable state tensor; `isInteger` marks an integer counter.
    public mutating func state(_ name: String, shape: [Int], initializer: ParameterInitializer,
                               isInteger: Bool = false) -> StateID {
        record(name)
        states.append(ParameterDeclaration(name: name, shape: shape, initializer: initializer, isInteger: isInteger))
        order.append(.state(states.count - 1))
        return StateID(index: states.count - 1)
    }

    /// Skips the initialization stream of a parameter a layer leaves out (a bias that a batch norm after it would
    /// cancel), so that every other parameter starts as it would with that parameter declared.
    public mutating func reserveInitializationStream() {
        initializationStreams += 1
    }

    /// Hands out the next random-stream purpose (0, 1, 2, … in declaration order) to a layer that draws
    /// random numbers, for ``StepContext/randomStream(purpose:)``.
    public mutating func reserveRandomStream() -> Int {
        defer { randomStreams += 1 }
        return randomStreams
    }

    private mutating func record(_ name: String) {
        if !names.insert(name).inserted { duplicates.append(name) }
    }
}
