import Compute
import Foundation
import Layers

extension Trainer {
    /// Format tag written into checkpoint metadata.
    static let checkpointFormat = "autoencoderkit-checkpoint-1"

    /// Everything needed to continue this run exactly: the model's tensors, the optimizer's state under
    /// `optimizer.*`, and the counters and history in the metadata.
    public func checkpoint() throws -> SafeTensorsArchive {
        var tensors = model.weights()
        let device = model.device
        let count = model.store.parameterCount
        if let adam = optimizer as? Adam {
            tensors["optimizer.exp_avg"] = HostTensor(shape: [count], float32: device.read(adam.m))
            tensors["optimizer.exp_avg_sq"] = HostTensor(shape: [count], float32: device.read(adam.v))
        } else if let sgd = optimizer as? SGD, let velocity = sgd.velocity {
            tensors["optimizer.momentum_buffer"] = HostTensor(shape: [count], float32: device.read(velocity))
        }
        let history = String(decoding: try JSONEncoder().encode(self.history), as: UTF8.self)
        var metadata = [
            "format": Self.checkpointFormat,
            "epoch": String(epoch),
            "step": String(step),
            "optimizer_steps": String((optimizer as? Adam)?.stepCount ?? step),
            "ema_total": String(model.emaTotal),
            "history": history,
        ]
        if let best {
            metadata["best_loss"] = String(best.loss)
            metadata["best_epoch"] = String(best.epoch)
        }
        return SafeTensorsArchive(tensors: tensors, metadata: metadata)
    }

    /// Restores a ``checkpoint()`` of the same model and training configuration.
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
              let optimizerSteps = Int(try field("optimizer_steps")), let emaTotal = Double(try field("ema_total")),
              let history = try? JSONDecoder().decode([EpochMetrics].self, from: Data(try field("history").utf8)),
              history.count == epochs else {
            throw DataError(file: file, .invalidArgument("checkpoint metadata is damaged"))
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
        if let adam = optimizer as? Adam {
            device.write(try moments("optimizer.exp_avg"), to: adam.m)
            device.write(try moments("optimizer.exp_avg_sq"), to: adam.v)
            adam.stepCount = optimizerSteps
        } else if let sgd = optimizer as? SGD, let velocity = sgd.velocity {
            device.write(try moments("optimizer.momentum_buffer"), to: velocity)
        }
        model.emaTotal = emaTotal
        restoreProgress(history: history, step: steps,
                        best: Double(archive.metadata["best_loss"] ?? "").flatMap { loss in
                            Int(archive.metadata["best_epoch"] ?? "").map { (loss, $0) }
                        })
    }
}
