import Compute
import Foundation
import Layers

/// How far an interrupted epoch got: batches done, the samples they trained on, batches skipped for a
/// non-finite loss, and seconds spent (for its samples/s).
struct PartialEpoch: Equatable {
    var batches: Int
    var seen: Int
    var skipped: Int
    var seconds: Double
}

extension Trainer {
    /// Format tag written into checkpoint metadata.
    static let checkpointFormat = "autoencoderkit-checkpoint-1"

    /// Everything needed to continue this run exactly: the model's tensors, the optimizer's state under
    /// `optimizer.*`, and the counters and history in the metadata. Taken within an interrupted epoch
    /// (``interruptedEpoch``), it also holds the epoch's position (`partial_*` metadata) and its running sums
    /// (`epoch_sums.*` tensors).
    public func checkpoint() throws -> SafeTensorsArchive {
        var tensors = model.weights()
        let device = model.device
        let count = model.store.parameterCount
        for (name, values) in optimizer.stateTensors {
            tensors["optimizer." + name] = HostTensor(shape: [count], float32: device.read(values))
        }
        let history = String(decoding: try JSONEncoder().encode(self.history), as: UTF8.self)
        var metadata = [
            "format": Self.checkpointFormat,
            "epoch": String(epoch),
            "step": String(step),
            "optimizer_steps": String(optimizer.stepCount),
            "history": history,
        ]
        for (name, value) in model.latent.hostState { metadata[name] = String(value) }
        for (name, buffer) in model.latent.runningState {
            tensors["latent_state." + name] = HostTensor(shape: [buffer.count], float32: device.read(buffer.whole))
        }
        if let best {
            metadata["best_loss"] = String(best.loss)
            metadata["best_epoch"] = String(best.epoch)
        }
        if let partialEpoch {
            metadata["partial_batches"] = String(partialEpoch.batches)
            metadata["partial_seen"] = String(partialEpoch.seen)
            metadata["partial_skipped"] = String(partialEpoch.skipped)
            metadata["partial_seconds"] = String(partialEpoch.seconds)
            tensors.merge(model.epochSumTensors()) { current, _ in current }
        }
        return SafeTensorsArchive(tensors: tensors, metadata: metadata)
    }

    /// Restores a ``checkpoint()`` of the same model and training configuration. Data-parallel ranks all restore
    /// rank 0's checkpoint, taken under the same number of ranks.
    public func restore(from archive: SafeTensorsArchive, file: String) throws {
        func field(_ name: String) throws -> String {
            guard let value = archive.metadata[name] else {
                throw DataError(file: file, .invalidArgument("not a training checkpoint: metadata lacks \(name)"))
            }
            return value
        }
        guard try field("format") == Self.checkpointFormat else {
            throw DataError(file: file, .invalidArgument("unknown checkpoint format \(archive.metadata["format"] ?? "")"))
        }
        guard let epochs = Int(try field("epoch")), let steps = Int(try field("step")),
              let optimizerSteps = Int(try field("optimizer_steps")),
              let history = try? JSONDecoder().decode([EpochMetrics].self, from: Data(try field("history").utf8)),
              history.count == epochs else {
            throw DataError(file: file, .invalidArgument("checkpoint metadata is damaged"))
        }
        var hostState = model.latent.hostState
        for name in hostState.keys {
            guard let value = Double(try field(name)) else {
                throw DataError(file: file, .invalidArgument("checkpoint metadata is damaged (\(name))"))
            }
            hostState[name] = value
        }
        try model.load(weights: archive.tensors, file: file)
        let device = model.device
        func moments(_ name: String) throws -> [Float] {
            guard let tensor = archive.tensors[name], tensor.shape == [model.store.parameterCount],
                  case .float32(let values) = tensor.elements else {
                throw DataError(file: file, .invalidArgument("checkpoint lacks \(name) for \(model.store.parameterCount) parameters"))
            }
            return values
        }
        for (name, values) in optimizer.stateTensors { device.write(try moments("optimizer." + name), to: values) }
        optimizer.stepCount = optimizerSteps
        model.latent.hostState = hostState
        for (name, buffer) in model.latent.runningState {
            guard let tensor = archive.tensors["latent_state." + name], tensor.shape == [buffer.count],
                  case .float32(let values) = tensor.elements else {
                throw DataError(file: file, .invalidArgument("checkpoint lacks latent_state.\(name) of \(buffer.count) values"))
            }
            device.write(values, to: buffer.whole)
        }
        partialEpoch = nil
        if let batches = archive.metadata["partial_batches"] {
            guard let batches = Int(batches), (0...stepsPerEpoch).contains(batches),
                  let seen = Int(try field("partial_seen")), let skipped = Int(try field("partial_skipped")),
                  let seconds = Double(try field("partial_seconds")) else {
                throw DataError(file: file, .invalidArgument("checkpoint metadata is damaged (partial_*)"))
            }
            try model.restoreEpochSums(from: archive.tensors, file: file)
            // the sums are every rank's (``Trainer/checkpoint()`` of rank 0 after they were summed): one rank holds them
            if ranks.rank != 0 { model.resetEpochSums() }
            partialEpoch = PartialEpoch(batches: batches, seen: seen, skipped: skipped, seconds: seconds)
        }
        restoreProgress(history: history, step: steps,
                        best: Double(archive.metadata["best_loss"] ?? "").flatMap { loss in
                            Int(archive.metadata["best_epoch"] ?? "").map { (loss, $0) }
                        })
    }
}
