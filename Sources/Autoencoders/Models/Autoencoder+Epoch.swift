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
    /// Zeroes the epoch sums, the per-dimension KL sums, unit activity and code counts.
    public func resetEpochSums() {
        for buffer in [sums, klDimensionSums, unitActivity, codeCounts] { device.fill(buffer.whole, with: 0) }
    }

    /// The four epoch accumulators as host tensors under `epoch_sums.*`, for a checkpoint taken within an epoch.
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
        [("terms", sums), ("kl_dimensions", klDimensionSums), ("unit_activity", unitActivity), ("code_counts", codeCounts)]
    }

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

    /// Fills in the kind-specific terms of an epoch's metrics from the sums over `samples` training samples.
    func describeEpoch(into metrics: inout EpochMetrics, sums: EpochSumValues, samples: Int, klWeight: Double) {
        let n = Double(max(samples, 1))
        let batches = Double(max(samples / batchSize, 1))
        switch config.kind {
        case .vae, .betaVAE:
            metrics.kl = sums.kl / n
            metrics.beta = klWeight
            metrics.klPerDimension = device.read(klDimensionSums.whole).map { Double($0) / batches }
        case .vqVAE:
            metrics.penalty = sums.penalty / n
            let counts = device.read(codeCounts.slice(0, config.vq.codebookSize)).map(Double.init)
            let total = counts.reduce(0, +)
            if total > 0 {
                let entropy = counts.filter { $0 > 0 }.map { -($0 / total) * log($0 / total) }.reduce(0, +)
                metrics.perplexity = exp(entropy)
                metrics.codebookUsage = Double(counts.filter { $0 > 0 }.count) / Double(counts.count)
            }
        case .sparse:
            metrics.penalty = sums.penalty / n
            metrics.l0 = sums.nonzero / n
            metrics.deadUnits = device.read(unitActivity.whole).filter { $0 == 0 }.count
        case .contractive:
            metrics.penalty = sums.penalty / n
        case .ae, .denoising:
            break
        }
    }

    /// Moves every code unused in the last epoch onto an encoding from `data` (drawn by (seed, epoch)), so the
    /// codebook keeps all its entries in play. EMA statistics of a moved code restart at that vector.
    func restartDeadCodes(batch data: DeviceDataset, seed: UInt64, epoch: Int) {
        guard let codebookID else { return }
        let k = config.vq.codebookSize, d = config.vq.codeDim
        let counts = device.read(codeCounts.slice(0, k))
        let dead = counts.indices.filter { counts[$0] == 0 }
        guard !dead.isEmpty else { return }
        let order = DeviceDataset.permutation(count: data.count, seed: seed ^ 0x5EED_C0DE, epoch: epoch)
        var batches = data.batches(order: Array(order.prefix(batchSize)), dropLast: false)
        guard let batch = batches.next() else { return }
        let ze = encoderOutputForRestart(batch.x)
        let vectors = batchSize * latentDim / d
        let codebook = store.value(codebookID)
        for (i, code) in dead.enumerated() {
            let source = ze.slice(((i * 7919) % vectors) * d, d)
            device.copy(source, to: codebook.slice(code * d, d))
            if let embedAverageID, let clusterSizeID {
                device.copy(source, to: store.state(embedAverageID).slice(code * d, d))
                device.fill(store.state(clusterSizeID).slice(code, 1), with: 1)
            }
        }
    }

    private func encoderOutputForRestart(_ x: BufferSlice) -> BufferSlice {
        encoder.forward(x, context: .init(training: false))
    }
}
