import Compute
import Foundation

/// The device-side epoch sums, read back.
public struct EpochSumValues: Equatable, Sendable {
    public var objective: Double
    public var reconstruction: Double
    public var kl: Double
    public var penalty: Double
    public var nonzero: Double
}

extension Autoencoder {
    /// Zeroes the epoch sums and the latent's accumulators (per-dimension KL sums, unit activity, code counts).
    public func resetEpochSums() {
        for (_, buffer) in epochSumBuffers { device.fill(buffer.whole, with: 0) }
    }

    /// The epoch accumulators as host tensors under `epoch_sums.*`, for a checkpoint taken within an epoch.
    func epochSumTensors() -> [String: HostTensor] {
        Dictionary(uniqueKeysWithValues: epochSumBuffers.map { name, buffer in
            ("epoch_sums." + name, HostTensor(shape: [buffer.count], float32: device.read(buffer.whole)))
        })
    }

    /// Puts back accumulators saved by ``epochSumTensors()``.
    ///
    /// - Throws: `DataError` naming `file` when a tensor is missing or has another size.
    func restoreEpochSums(from tensors: [String: HostTensor], file: String) throws {
        for (name, buffer) in epochSumBuffers {
            guard let tensor = tensors["epoch_sums." + name], tensor.shape == [buffer.count],
                  case .float32(let values) = tensor.elements else {
                throw DataError(file: file, .invalidArgument("checkpoint taken within an epoch lacks epoch_sums.\(name) of \(buffer.count) values"))
            }
            device.write(values, to: buffer.whole)
        }
    }

    private var epochSumBuffers: [(String, Buffer)] {
        [("terms", sums)] + latent.epochAccumulators
    }

    /// The epoch sums and the latent's accumulators: what data-parallel ranks sum before reading them.
    var epochAccumulatorBuffers: [Buffer] { epochSumBuffers.map(\.1) }

    /// Reads the epoch sums (waits for the device).
    public func readEpochSums() -> EpochSumValues {
        let v = device.read(sums.whole).map(Double.init)
        return EpochSumValues(objective: v[EpochSums.objective], reconstruction: v[EpochSums.reconstruction],
                              kl: v[EpochSums.kl], penalty: v[EpochSums.penalty], nonzero: v[EpochSums.nonzero])
    }

    /// The objective summed over the epoch so far (one element, read back once per step under `--on-nan skip`).
    var objectiveSum: BufferSlice { sums.slice(EpochSums.objective, 1) }

    /// Copies the epoch sums into `backup` (``EpochSums/slots`` elements) on the device.
    func saveEpochSums(into backup: BufferSlice) { device.copy(sums.whole, to: backup) }

    /// Puts back sums saved by ``saveEpochSums(into:)`` (a skipped batch), on the device.
    func restoreEpochSums(from backup: BufferSlice) { device.copy(backup, to: sums.whole) }

    /// Fills in the latent's terms of an epoch's metrics from the sums over `samples` training samples.
    func describeEpoch(into metrics: inout EpochMetrics, sums: EpochSumValues, samples: Int, klWeight: Double) {
        latent.describeEpoch(into: &metrics, sums: sums, samples: samples, klWeight: klWeight)
    }

    /// The latent's upkeep after an epoch's training steps (VQ-VAE's dead-code restarts, drawn by (seed, epoch)).
    func endEpoch(data: DeviceDataset, seed: UInt64, epoch: Int) {
        latent.endEpoch(data: data, seed: seed, epoch: epoch)
    }
}
