import Compute
import Distributed
import Foundation
import Layers

/// What the ranks of a data-parallel job do together, so that N ranks train the model one process would train
/// on the same global batches.
///
/// Every rank holds the whole model and draws the same (seed, epoch) order; rank r takes rows
/// r·B/N ..< (r+1)·B/N of each global batch of B (``localOrder(_:globalBatch:)``). A step's gradients, already
/// scaled by 1/B (``BatchShard``), are summed over the ranks in one in-place all-reduce of the flat gradient
/// buffer, device → host → device, which also carries the step's decisions (a non-finite loss under
/// `--on-nan skip`, a stop request) so that every rank takes them alike. Batch-wide values within a step go
/// through the shard's ``ShardReduction`` (this type). Epoch sums and accumulators are summed at each read.
///
/// With one process (``SingleProcess``) none of this runs: ``isParallel`` is false and the trainer takes its
/// single-process path unchanged.
final class DataParallel: ShardReduction, @unchecked Sendable {
    let communicator: any Communicator
    /// The gradient and the step's flags, on the host (allocated once).
    private var exchange: [Float] = []
    /// Seconds spent inside collectives so far (the transfers between device and host not included).
    private(set) var collectiveSeconds: Double = 0

    init(communicator: any Communicator) {
        self.communicator = communicator
    }

    /// Whether more than one rank trains.
    var isParallel: Bool { communicator.size > 1 }
    var rank: Int { communicator.rank }
    var size: Int { communicator.size }

    /// The shard of each step's global batch this rank computes; nil with one process.
    func shard(globalBatch: Int) -> BatchShard? {
        guard isParallel else { return nil }
        return BatchShard(firstRow: rank * globalBatch / size, globalRows: globalBatch, reduction: self)
    }

    /// This rank's rows of every whole global batch of `order`: rows r·b ..< (r+1)·b of each, b = B/N.
    func localOrder(_ order: RowOrder, globalBatch: Int) -> RowOrder {
        order.local(rank: rank, ranks: size, globalBatch: globalBatch)
    }

    /// The decisions a step's all-reduce carries besides the gradient.
    struct StepFlags {
        /// Some rank's loss was not finite (`--on-nan skip` then drops the update on every rank).
        var nonFinite = false
        /// Some rank was asked to stop (the epoch then stops after this step on every rank).
        var stop = false
    }

    /// Sums the gradients in `gradients` over the ranks, in place on the device, and the ranks' flags with them.
    func allReduce(gradients: BufferSlice, device: any Device, flags: StepFlags) -> StepFlags {
        let count = gradients.count
        if exchange.count != count + 2 { exchange = [Float](repeating: 0, count: count + 2) }
        exchange.withUnsafeMutableBufferPointer { values in
            device.read(gradients, into: UnsafeMutableBufferPointer(rebasing: values[0..<count]))
        }
        exchange[count] = flags.nonFinite ? 1 : 0
        exchange[count + 1] = flags.stop ? 1 : 0
        collective("the gradient all-reduce") { try communicator.allReduceSum(&exchange) }
        exchange.withUnsafeBufferPointer { values in
            device.write(UnsafeBufferPointer(rebasing: values[0..<count]), to: gradients)
        }
        return StepFlags(nonFinite: exchange[count] >= 0.5, stop: exchange[count + 1] >= 0.5)
    }

    func sumOverShards(_ values: inout [Double]) {
        collective("a batch-wide reduction") { try communicator.allReduceSum(&values) }
    }

    /// Sums the epoch's sums over the ranks (host values).
    func sum(_ sums: EpochSumValues) -> EpochSumValues {
        guard isParallel else { return sums }
        var values = [sums.objective, sums.reconstruction, sums.kl, sums.penalty, sums.nonzero]
        sumOverShards(&values)
        return EpochSumValues(objective: values[0], reconstruction: values[1], kl: values[2], penalty: values[3],
                              nonzero: values[4])
    }

    /// Replaces each device buffer by its sum over the ranks (epoch accumulators, before they are read).
    func sumInPlace(_ buffers: [Buffer], device: any Device) {
        guard isParallel else { return }
        for buffer in buffers { sumOverShards(buffer.whole, on: device) }
    }

    /// Every rank's `value`, in rank order (an all-reduce of a vector holding each rank's value in its slot).
    func gather(_ values: [Double]) -> [[Double]] {
        guard isParallel else { return [values] }
        var all = [Double](repeating: 0, count: values.count * size)
        all.replaceSubrange((rank * values.count)..<((rank + 1) * values.count), with: values)
        sumOverShards(&all)
        return (0..<size).map { Array(all[($0 * values.count)..<(($0 + 1) * values.count)]) }
    }

    /// Checks that every rank has the same value of each named fact; the first that differs names itself and
    /// two ranks' values.
    func agree(on facts: [(name: String, value: Double)]) throws {
        guard isParallel else { return }
        let all = gather(facts.map(\.value))
        for (index, fact) in facts.enumerated() {
            if let other = all.indices.first(where: { all[$0][index] != all[0][index] }) {
                throw ConfigError.invalid("the ranks disagree on \(fact.name): rank 0 has \(Self.format(all[0][index])), rank \(other) has \(Self.format(all[other][index]))")
            }
        }
    }

    /// A 52-bit FNV-1a hash of float bit patterns (one 32-bit word at a time), exact as a Double: equal on two
    /// ranks when their values are bit-identical.
    static func fingerprint(_ values: [Float]) -> Double { fingerprint(words: values.lazy.map(\.bitPattern)) }

    /// A 52-bit FNV-1a hash of bytes, exact as a Double.
    static func fingerprint(_ bytes: Data) -> Double { fingerprint(words: bytes) }

    /// FNV-1a over `words` (each folded in whole), kept to 52 bits so that a Double holds it exactly.
    private static func fingerprint<S: Sequence>(words: S) -> Double where S.Element: UnsignedInteger {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for word in words { hash = (hash ^ UInt64(word)) &* 0x0000_0100_0000_01B3 }
        return Double(hash & (1 << 52 - 1))
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// Runs a collective; a failure ends the whole job (the other ranks wait in the same collective).
    private func collective(_ what: String, _ body: () throws -> Void) {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { collectiveSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        do {
            try body()
        } catch {
            FileHandle.standardError.write(Data("rank \(rank): error: \(what) failed: \(error)\n".utf8))
            communicator.abort(code: 1)
        }
    }
}
