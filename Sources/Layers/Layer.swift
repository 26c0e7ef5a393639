import Compute

/// What one training or evaluation step tells its layers.
///
/// Randomness is derived from the step, never kept in the layers: a layer draws from
/// ``randomStream(purpose:)`` with its declaration index as the purpose, so a run is reproducible and
/// the CPU and OpenCL backends draw the same numbers.
public struct StepContext: Equatable, Sendable {
    /// Training mode (batch statistics, dropout active) or evaluation mode.
    public var training: Bool
    /// The run's seed: the Philox key of every draw.
    public var seed: UInt64
    /// The optimizer step, counting from 0.
    public var step: Int
    /// The rows of the global batch this step computes, when data-parallel ranks each take a slice; nil: all.
    public var shard: BatchShard?

    public init(training: Bool, seed: UInt64 = 0, step: Int = 0, shard: BatchShard? = nil) {
        self.training = training
        self.seed = seed
        self.step = step
        self.shard = shard
    }

    /// The stream of ``randomStream(purpose:)`` for a buffer of `rowWidth` draws per sample, advanced to the
    /// shard's first row: a shard draws exactly its rows' part of the global batch's draws.
    public func randomStream(purpose: Int, rowWidth: Int) -> RandomStream {
        randomStream(purpose: purpose).advanced(by: (shard?.firstRow ?? 0) * rowWidth)
    }

    /// 1/B with B the global batch (`rows`, the step's own, without a shard): a batch mean's gradient scale, so
    /// that the shards' gradients sum to the global batch's.
    public func batchMeanScale(rows: Int) -> Float { 1 / Float(shard?.globalRows ?? rows) }

    /// The random stream of one purpose at this step: stream number = step·2¹⁶ + purpose.
    /// Purposes are below 2¹⁶; layers use their declaration index (``ParameterLayout/reserveRandomStream()``).
    public func randomStream(purpose: Int) -> RandomStream {
        precondition(purpose >= 0 && purpose < 1 << 16, "random purpose \(purpose) outside 0..<65536")
        return RandomStream(seed: seed, stream: UInt64(max(step, 0)) << 16 | UInt64(purpose))
    }
}

/// The slice of a global batch one data-parallel rank computes: rows `firstRow ..< firstRow + rows` of
/// `globalRows`, and how the ranks sum the batch-wide values a step needs (batch statistics, EMA counts).
public struct BatchShard: Equatable, Sendable {
    /// The slice's first row in the global batch.
    public var firstRow: Int
    /// Rows in the global batch.
    public var globalRows: Int
    /// Sums values over every rank's shard within a step; nil when the shards run apart (a test of their
    /// arithmetic), in which case batch-wide values are the shard's own.
    public var reduction: (any ShardReduction)?

    public init(firstRow: Int, globalRows: Int, reduction: (any ShardReduction)? = nil) {
        precondition(firstRow >= 0 && globalRows > firstRow, "shard from row \(firstRow) of \(globalRows)")
        self.firstRow = firstRow
        self.globalRows = globalRows
        self.reduction = reduction
    }

    public static func == (a: BatchShard, b: BatchShard) -> Bool {
        a.firstRow == b.firstRow && a.globalRows == b.globalRows
            && a.reduction.map(ObjectIdentifier.init) == b.reduction.map(ObjectIdentifier.init)
    }
}

/// Sums host values over the shards of one global batch, within a step: every rank calls it at the same point
/// of its step, in the same order, with the same count (a collective).
///
/// Layers and latents whose step needs a batch-wide value (batch normalization's statistics, a VQ codebook's
/// EMA counts and sums, the batch-mean KL of free bits and capacity training) reduce it through the shard's
/// reduction, so N ranks compute what one process computes on the global batch. A reduction does not fail:
/// one that cannot complete ends the job (a data-parallel step cannot continue without it).
public protocol ShardReduction: AnyObject, Sendable {
    /// Replaces `values` by their element-wise sum over every shard's `values`.
    func sumOverShards(_ values: inout [Double])
}

extension ShardReduction {
    /// Replaces the device values of `slice` by their sum over every shard's, times `scale` (read to the host,
    /// summed in double precision, written back).
    public func sumOverShards(_ slice: BufferSlice, on device: any Device, scale: Double = 1) {
        var values = device.read(slice).map(Double.init)
        sumOverShards(&values)
        device.write(values.map { Float($0 * scale) }, to: slice)
    }
}

/// A differentiable building block with an explicit forward/backward pair (the llm.c shape).
///
/// The life of a layer:
/// 1. ``declareParameters(in:prefix:)`` records its parameters and state (PyTorch names) in a
///    ``ParameterLayout``, from which a ``ParameterStore`` is built;
/// 2. ``prepare(device:store:inputShape:batch:)`` looks its parameters up and allocates every workspace
///    for one batch size;
/// 3. ``forward(_:context:)`` and ``backward(_:context:needInputGradient:)`` run without allocating.
///
/// Shapes are per sample (no batch dimension); buffers hold `batch` samples back to back. The input
/// given to `forward` must stay unchanged until the matching `backward`, which reads it.
public protocol Layer: AnyObject {
    /// The per-sample output shape for a per-sample input shape; throws ``LayerError`` when the input
    /// cannot feed this layer.
    func outputShape(for inputShape: [Int]) throws -> [Int]

    /// Declares parameters and state under `prefix` (such as `"encoder.0."`, empty at the top).
    func declareParameters(in layout: inout ParameterLayout, prefix: String)

    /// Finds this layer's parameters in `store` and allocates its workspaces on `device` for `batch`
    /// samples of `inputShape`.
    func prepare(device: any Device, store: ParameterStore, inputShape: [Int], batch: Int) throws

    /// y = f(x) for the prepared batch; returns a view of the layer's own output workspace (or of `x`
    /// for layers that change only the shape).
    func forward(_ x: BufferSlice, context: StepContext) -> BufferSlice

    /// Given dy = ∂L/∂y for the last forward pass, ADDS ∂L/∂θ into the store's gradient buffer and,
    /// when `needInputGradient`, returns dx = ∂L/∂x (a view of the layer's own workspace, or of `dy`).
    func backward(_ dy: BufferSlice, context: StepContext, needInputGradient: Bool) -> BufferSlice?
}

extension Layer {
    /// Runs ``forward(_:context:)``.
    public func callAsFunction(_ x: BufferSlice, context: StepContext) -> BufferSlice {
        forward(x, context: context)
    }
}

/// The number of elements of a shape, ∏ dims.
@inlinable
func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }
