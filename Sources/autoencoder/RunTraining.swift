import AutoencoderKit
import Foundation

/// The training loop of a run folder, shared by `train` and `sweep`: builds the model, trains it while writing
/// `metrics.csv`, checkpoints and the best weights, then writes `model.safetensors`.
///
/// Ctrl-C or SIGTERM (``Interruption``) stops it after the current step: it writes the model, a checkpoint
/// within the epoch (`checkpoints/epoch-NNNN-partial.safetensors`) and the metrics of the finished epochs, then
/// throws ``RunError/interrupted(epoch:step:directory:)``. A file that cannot be written stops it with
/// ``RunError/writeFailed(path:reason:)``; every file is written atomically, so the earlier ones stay intact.
struct RunTraining {
    let directory: RunDirectory
    let config: RunConfig
    let prepared: PreparedData
    /// Epoch lines go to standard error instead of standard output (a `--json` command).
    let quiet: Bool

    /// Trains (continuing from the newest checkpoint when `resume`, and then rewriting `config.json` with the
    /// epochs now asked for) and returns the trainer and its model.
    func run(device: any Device, resume: Bool) throws -> (Trainer, Autoencoder) {
        let model = try Autoencoder(config: config.model, device: device, batchSize: config.training.batchSize,
                                    seed: config.training.seed)
        let trainer = try Trainer(model: model, config: config.training, training: prepared.train,
                                  validation: prepared.validation)
        if resume, let checkpoint = directory.latestCheckpoint() {
            try trainer.restore(from: SafeTensorsFormat.read(checkpoint), file: checkpoint.path)
            if let epoch = trainer.interruptedEpoch {
                guard epoch <= config.training.epochs else {
                    throw ConfigError.invalid("\(directory.url.path) stopped within epoch \(epoch): continue it with --epochs \(epoch) or more")
                }
                Terminal.note("resuming \(directory.url.path) within epoch \(epoch) (step \(trainer.step))")
            } else {
                Terminal.note("resuming \(directory.url.path) after epoch \(trainer.epoch) (step \(trainer.step))")
            }
        }
        // a resumed run's config (its --epochs) changes once the checkpoint is known to continue
        if resume { try writing(directory.configURL) { try directory.write(config: config) } }
        if !quiet {
            print("training \(config.model.kind.rawValue) (\(config.model.architecture.rawValue), \(model.store.parameterCount) parameters) on \(prepared.description.source): \(prepared.train.count) samples, \(Terminal.count(config.training.epochs, "epoch")) on \(device.info)")
        }
        Interruption.catchSignals()
        defer { Interruption.restoreDefaults() }
        try trainer.run(events: { report($0, total: config.training.epochs) }, epochEnd: { metrics, isBest in
            try writing(directory.metricsURL) { try directory.write(metrics: trainer.history) }
            let every = config.training.checkpointEvery
            if every > 0 && metrics.epoch % every == 0 {
                let url = directory.checkpointURL(epoch: metrics.epoch)
                try writing(url) { try SafeTensorsFormat.write(try trainer.checkpoint(), to: url) }
                pruneCheckpoints(keep: 2)
            }
            removePartialCheckpoints(through: metrics.epoch)
            if isBest { try writing(directory.bestURL) { try directory.write(model: model, to: directory.bestURL) } }
        }, shouldStop: { Interruption.requested })
        if let epoch = trainer.interruptedEpoch {
            Terminal.finishStatus()
            try writing(directory.metricsURL) { try directory.write(metrics: trainer.history) }
            let url = directory.partialCheckpointURL(epoch: epoch)
            try writing(url) { try SafeTensorsFormat.write(try trainer.checkpoint(), to: url) }
            try writing(directory.modelURL) { try directory.write(model: model) }
            throw RunError.interrupted(epoch: epoch, step: trainer.step, directory: directory.url.path)
        }
        try writing(directory.modelURL) { try directory.write(model: model) }
        return (trainer, model)
    }

    /// Runs a write of `url`, turning a failure into one line that names the whole path.
    private func writing(_ url: URL, _ write: () throws -> Void) throws {
        do {
            try write()
        } catch let error as DataError {
            guard case .writeFailed(let reason) = error.problem else { throw error }
            throw RunError.writeFailed(path: url.path, reason: reason)
        }
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

    /// Keeps the newest `keep` end-of-epoch checkpoints.
    private func pruneCheckpoints(keep: Int) {
        let names = checkpointNames().filter { !$0.hasSuffix(RunDirectory.partialCheckpointSuffix) }
        for name in names.dropLast(keep) {
            try? FileManager.default.removeItem(at: directory.checkpointsURL.appendingPathComponent(name))
        }
    }

    /// Removes the checkpoints taken within epochs up to `epoch`, which has now finished.
    private func removePartialCheckpoints(through epoch: Int) {
        for name in checkpointNames() where name.hasSuffix(RunDirectory.partialCheckpointSuffix) {
            if let number = Int(name.dropFirst("epoch-".count).prefix(4)), number <= epoch {
                try? FileManager.default.removeItem(at: directory.checkpointsURL.appendingPathComponent(name))
            }
        }
    }

    private func checkpointNames() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.checkpointsURL.path)) ?? [])
            .filter { $0.hasPrefix("epoch-") && $0.hasSuffix(".safetensors") }.sorted()
    }
}
