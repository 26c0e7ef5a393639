import Compute

/// Every parameter of a model in ONE flat float buffer, their gradients in a second and the
/// non-trainable state in a third, laid out in declaration order.
///
/// One buffer means one fused optimizer update per step and one block to checkpoint. Layers look their
/// tensors up by ``ParameterID``/``StateID``; checkpoints use ``entries`` (name, shape, offset).
public final class ParameterStore {
    /// Where one named tensor lives.
    public struct Entry: Equatable, Sendable {
        /// The declaration (name, shape, initializer, integer flag).
        public var declaration: ParameterDeclaration
        /// True for state (``states``), false for a trainable parameter (``values``).
        public var isState: Bool
        /// First element inside ``values`` (parameters) or ``states`` (state).
        public var offset: Int
        /// The dotted PyTorch name.
        public var name: String { declaration.name }
        /// The shape.
        public var shape: [Int] { declaration.shape }
        /// ∏ shape.
        public var count: Int { declaration.count }
    }

    /// Random streams of parameter initialization: parameter `i` draws from stream `initializationStream + i`,
    /// far from the per-step streams of ``StepContext/randomStream(purpose:)``.
    public static let initializationStream: UInt64 = 1 << 62

    /// The device holding the buffers.
    public let device: any Device
    /// The layout the store was built from.
    public let layout: ParameterLayout
    /// All parameters, back to back (``parameterCount`` elements).
    public let values: BufferSlice
    /// Their gradients, same layout; layers add into it, the trainer zeroes it with ``zeroGradients()``.
    public let gradients: BufferSlice
    /// All state tensors, back to back (``stateCount`` elements).
    public let states: BufferSlice
    /// Every parameter and state entry, interleaved in declaration order (a PyTorch state dict's order).
    public let entries: [Entry]

    private let parameterOffsets: [Int]
    private let stateOffsets: [Int]
    private let byName: [String: Int]
    private let storage: [Buffer]

    /// Elements of all parameters.
    public var parameterCount: Int { values.count }
    /// Elements of all state.
    public var stateCount: Int { states.count }

    /// Allocates the three buffers for a layout (zeroed; call ``initialize(seed:)``).
    public init(device: any Device, layout: ParameterLayout) throws {
        if let name = layout.duplicates.first { throw LayerError.duplicateName(name) }
        self.device = device
        self.layout = layout
        let (parameterOffsets, parameterCount) = Self.offsets(of: layout.parameters)
        let (stateOffsets, stateCount) = Self.offsets(of: layout.states)
        self.parameterOffsets = parameterOffsets
        self.stateOffsets = stateOffsets
        // OpenCL cannot allocate empty buffers: keep at least one element and view the used part.
        let valueBuffer = try device.makeBuffer(count: max(parameterCount, 1), dtype: .float32)
        let gradientBuffer = try device.makeBuffer(count: max(parameterCount, 1), dtype: .float32)
        let stateBuffer = try device.makeBuffer(count: max(stateCount, 1), dtype: .float32)
        storage = [valueBuffer, gradientBuffer, stateBuffer]
        values = valueBuffer.slice(0, parameterCount)
        gradients = gradientBuffer.slice(0, parameterCount)
        states = stateBuffer.slice(0, stateCount)
        var entries: [Entry] = []
        for item in layout.order {
            switch item {
            case .parameter(let i):
                entries.append(Entry(declaration: layout.parameters[i], isState: false, offset: parameterOffsets[i]))
            case .state(let i):
                entries.append(Entry(declaration: layout.states[i], isState: true, offset: stateOffsets[i]))
            }
        }
        self.entries = entries
        byName = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.name, $0) })
    }

    /// The values of a parameter.
    public func value(_ id: ParameterID) -> BufferSlice {
        values.slice(parameterOffsets[id.index], layout.parameters[id.index].count)
    }

    /// The gradient of a parameter.
    public func gradient(_ id: ParameterID) -> BufferSlice {
        gradients.slice(parameterOffsets[id.index], layout.parameters[id.index].count)
    }

    /// A state tensor.
    public func state(_ id: StateID) -> BufferSlice {
        states.slice(stateOffsets[id.index], layout.states[id.index].count)
    }

    /// The entry of a name.
    public func entry(_ name: String) throws -> Entry {
        guard let index = byName[name] else { throw LayerError.unknownParameter(name) }
        return entries[index]
    }

    /// The values of a parameter or state tensor by its dotted name.
    public func value(named name: String) throws -> BufferSlice {
        let entry = try entry(name)
        return (entry.isState ? states : values).slice(entry.offset, entry.count)
    }

    /// The gradient of a parameter by name (state has none).
    public func gradient(named name: String) throws -> BufferSlice {
        let entry = try entry(name)
        guard !entry.isState else { throw LayerError.unknownParameter(name + " (gradient of a state tensor)") }
        return gradients.slice(entry.offset, entry.count)
    }

    /// Sets every parameter and state tensor to its initializer, on the device: a uniform parameter draws from
    /// `RandomStream(seed, initializationStream + s)` with s its ``ParameterDeclaration/initializationStream``
    /// (its position among the parameters, counting reserved streams), so every backend initializes identically.
    public func initialize(seed: UInt64) {
        for (i, declaration) in layout.parameters.enumerated() {
            fill(value(ParameterID(index: i)), declaration.initializer,
                 RandomStream(seed: seed, stream: Self.initializationStream + UInt64(declaration.initializationStream)))
        }
        for (i, declaration) in layout.states.enumerated() {
            fill(state(StateID(index: i)), declaration.initializer,
                 RandomStream(seed: seed, stream: Self.initializationStream + UInt64(layout.initializationStreams + i)))
        }
    }

    /// Zeroes the gradient buffer: before the first backward pass, and after one whose update was not applied
    /// (an ``Optimizer`` step clears the gradients itself).
    public func zeroGradients() {
        if gradients.count > 0 { device.fill(gradients, with: 0) }
    }

    /// Start of each declaration when packed back to back, and the total count.
    private static func offsets(of declarations: [ParameterDeclaration]) -> ([Int], Int) {
        var total = 0
        var offsets: [Int] = []
        for declaration in declarations {
            offsets.append(total)
            total += declaration.count
        }
        return (offsets, total)
    }

    private func fill(_ slice: BufferSlice, _ initializer: ParameterInitializer, _ random: RandomStream) {
        guard slice.count > 0 else { return }
        switch initializer {
        case .uniform(let low, let high): device.fillUniform(slice, low: low, high: high, random: random)
        case .constant(let value): device.fill(slice, with: value)
        }
    }
}
