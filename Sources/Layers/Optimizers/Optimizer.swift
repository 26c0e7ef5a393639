import Compute

/// Updates every parameter of a ``ParameterStore`` from its gradient buffer, in one fused pass.
///
/// A step reads the store's ``ParameterStore/gradients`` (summed by the backward pass), writes its
/// ``ParameterStore/values`` and leaves the gradients 0 for the next backward pass (no separate clearing); it
/// allocates nothing and reads nothing back to the host.
public protocol Optimizer: AnyObject {
    /// The learning rate of the next step; set it before each step to follow a schedule.
    var learningRate: Float { get set }
    /// Applies one update and clears the gradients.
    func step(store: ParameterStore)
    /// The per-parameter state tensors, each one value per parameter in the store's layout, by the names PyTorch's
    /// state dicts give them (Adam's `exp_avg` and `exp_avg_sq`, SGD's `momentum_buffer`): what a checkpoint
    /// saves and puts back.
    var stateTensors: [(name: String, values: BufferSlice)] { get }
    /// Updates applied so far (Adam's bias correction reads it); set it when resuming from a checkpoint.
    var stepCount: Int { get set }
}

extension Optimizer {
    /// Zeroes the optimizer's per-parameter state (``stateTensors``) at `indices`, offsets into `store`'s
    /// ``ParameterStore/values``, so that re-initialized parameters start without the history of the ones they
    /// replace; the step count stays that of the whole run. Reads the state back and writes it on the host; meant
    /// for occasional use, not per step.
    public func resetState(at indices: [Int], store: ParameterStore) {
        guard !indices.isEmpty else { return }
        let device = store.device
        for (_, slice) in stateTensors {
            var values = device.read(slice)
            for index in indices {
                precondition(index >= 0 && index < values.count, "optimizer state index \(index) outside \(values.count) parameters")
                values[index] = 0
            }
            device.write(values, to: slice)
        }
    }
}

/// Gradient-norm clipping on the device: s = min(1, maxNorm / (‖g‖₂ + 1e-6)) is computed into a
/// one-element buffer (‖g‖² by a reduction, then the scale) that the optimizer kernels multiply every
/// gradient by, so clipping never waits for the device.
public final class GradientClipping {
    /// The largest allowed global gradient norm.
    public let maxNorm: Float
    private let workspace: Buffer   // [‖g‖², s]

    /// Allocates the two-element workspace on `device`.
    public init(maxNorm: Float, device: any Device) throws {
        self.maxNorm = maxNorm
        workspace = try device.makeBuffer(count: 2, dtype: .float32)
    }

    /// The squared global norm ‖g‖² of the last ``scale(for:device:)`` (a one-element view).
    public var squaredNorm: BufferSlice { workspace.slice(0, 1) }

    /// Computes ‖g‖² and s for `gradients`; returns the one-element view of s.
    public func scale(for gradients: BufferSlice, device: any Device) -> BufferSlice {
        let scale = workspace.slice(1, 1)
        guard gradients.count > 0 else {
            device.fill(scale, with: 1)
            return scale
        }
        // ‖g‖² = Σ g²
        device.reduce(gradients, rows: 1, cols: gradients.count, axis: .all, op: .sumOfSquares, scale: 1,
                      into: squaredNorm, accumulate: false)
        // s = min(1, maxNorm / (‖g‖ + 1e-6))
        device.clipScale(squaredNorm: squaredNorm, maxNorm: maxNorm, into: scale)
        return scale
    }
}
