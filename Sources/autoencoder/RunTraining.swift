import AutoencoderKit
import Foundation

/// The training loop of a run folder, shared by `train` and `sweep`: builds the model, trains it while writing
/// `metrics.csv`, checkpoints and the best weights, then writes `model.safetensors`.
struct RunTraining {
    let directory: RunDirectory
    let config: RunConfig
    let prepared: PreparedData
    /// Epoch lines go to standard error instead of standard output (a `--json` command).
    let quiet: Bool

    /// Trains (continuing from the newest checkpoint when `resume`) and returns the trainer and its model.
    func run(device: any Device, resume: Bool) throws -> (Trainer, Autoencoder) {
        let model = try Autoencoder(config: config.model, device: device, batchSize: config.training.batchSize,
                                    seed: config.training.seed)
        let trainer = try Trainer(model: model, config: config.training, training: prepared.train,
                                  validation: prepared.validation)
        if resume, let checkpoint = directory.latestCheckpoint() {
            try trainer.restore(from: SafeTensorsFormat.read(checkpoint), file: checkpoint.path)
            Terminal.note("resuming \(directory.url.path) after epoch \(trainer.epoch) (step \(trainer.step))")
        }
        if !quiet {
            print("training \(config.model.kind.rawValue) (\(config.model.architecture.rawValue), \(model.store.parameterCount) parameters) on \(prepared.description.source): \(prepared.train.count) samples, \(config.training.epochs) epochs on \(device.info)")
        }
        try trainer.run(events: { report($0, total: config.training.epochs) }, epochEnd: { metrics, isBest in
            try directory.write(metrics: trainer.history)
            let every = config.training.checkpointEvery
            if every > 0 && metrics.epoch % every == 0 {
                try SafeTensorsFormat.write(try trainer.checkpoint(), to: directory.checkpointURL(epoch: metrics.epoch))
                try pruneCheckpoints(keep: 2)
            }
            if isBest { try directory.write(model: model, to: directory.bestURL) }
        })
        try directory.write(model: model)
        return (trainer, model)
    }

    /// Prints progress: a live bar on a terminal, one line per epoch otherwise (standard error when quiet).
    private func report(_ event: TrainingEvent, total: Int) {
        switch event {
        case .progress(let epoch, let batch, let batches, let loss, let reconstruction, let kl, let rate):
            Terminal.status(String(format: "epoch %d/%d %@ %d/%d loss %.3f rec %.3f", epoch, total,
                                   Terminal.bar(Double(batch) / Double(max(batches, 1))), batch, batches, loss, reconstruction)
                            + (kl.map { String(format: " kl %.3f", $0) } ?? "") + String(format: " %.0f samples/s", rate))
        case .epoch(let m):
            Terminal.endStatus()
            var line = String(format: "epoch %d/%d loss %.4f rec %.4f", m.epoch, total, m.loss, m.reconstruction)
            if let kl = m.kl { line += String(format: " kl %.4f β %.3g", kl, m.beta ?? 0) }
            if let active = m.activeUnits { line += " active \(active)" }
            if let p = m.perplexity { line += String(format: " perplexity %.1f usage %.0f%%", p, 100 * (m.codebookUsage ?? 0)) }
            if let l0 = m.l0 { line += String(format: " L0 %.2f dead %d", l0, m.deadUnits ?? 0) }
            if let ev = m.explainedVariance { line += String(format: " explained %.3f", ev) }
            if let penalty = m.penalty { line += String(format: " penalty %.4f", penalty) }
            if let v = m.validationLoss { line += String(format: " val %.4f", v) }
            line += String(format: " %.0f samples/s", m.samplesPerSecond)
            if quiet { Terminal.note(line) } else { print(line) }
        case .warning(let message):
            Terminal.endStatus()
            Terminal.note("warning: " + message)
        }
    }

    /// Keeps the newest `keep` epoch checkpoints.
    private func pruneCheckpoints(keep: Int) throws {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.checkpointsURL.path)) ?? [])
            .filter { $0.hasPrefix("epoch-") && $0.hasSuffix(".safetensors") }.sorted()
        for name in names.dropLast(keep) {
            try? FileManager.default.removeItem(at: directory.checkpointsURL.appendingPathComponent(name))
        }
    }
}
