import AutoencoderKit
import Foundation

/// The extra members of an anomaly-detection ensemble (`train --ensemble N`): the run's model settings and data,
/// seeds seed + 1 … seed + N − 1, each written to `members/K/` of the run folder.
struct EnsembleTraining {
    let directory: RunDirectory
    let config: RunConfig
    let data: RunData

    /// Trains members 2…N one after the other, printing one line per member (standard error when `quiet`).
    /// Members train on data loaded whole (``TrainOptions`` refuses an ensemble of streamed data).
    func run(device: any Device, quiet: Bool) throws {
        let count = config.ensemble ?? 1
        guard count > 1, let prepared = data.resident else { return }
        for index in stride(from: 2, through: count, by: 1) {
            var member = config
            member.training.seed = config.training.seed &+ UInt64(index - 1)
            member.training.checkpointEvery = 0
            let folder = directory.member(index)
            try? FileManager.default.removeItem(at: folder.url)
            try folder.create()
            let model = try Autoencoder(config: member.model, device: device, batchSize: member.training.batchSize,
                                        seed: member.training.seed)
            let trainer = try Trainer(model: model, config: member.training, training: prepared.train,
                                      validation: prepared.validation)
            try trainer.run(epochEnd: { metrics, isBest in
                if isBest { try folder.write(model: model, to: folder.bestURL) }
            })
            try folder.write(metrics: trainer.history)
            try folder.write(model: model)
            let last = trainer.history.last
            let line = "ensemble member \(index)/\(count) (seed \(member.training.seed)): \(trainer.epoch) epochs, loss "
                + String(format: "%.4f", last?.loss ?? 0) + (last?.validationLoss.map { String(format: ", val %.4f", $0) } ?? "")
            if quiet { Terminal.note(line) } else { print(line) }
        }
    }
}
