import AutoencoderKit
import Foundation

/// The training loop of a run folder, shared by `train` and `sweep`: builds the model, trains it while writing
/// `metrics.csv`, checkpoints and the best weights, then writes `model.safetensors`.
///
/// Ctrl-C or SIGTERM (``Interruption``) stops it after the current step: it writes the model, a checkpoint
/// within the epoch (`checkpoints/epoch-NNNN-partial.safetensors`) and the metrics of the finished epochs, then
/// throws ``RunError/interrupted(epoch:step:directory:)``. A file that cannot be written stops it with
/// ``RunError/writeFailed(path:reason:)``; every file is written atomically, so the earlier ones stay intact.
///
/// Of several ``ranks`` (`mpirun -np N`), each trains its share of every global batch; rank 0 alone writes the
/// files and prints, and its checkpoints record N, which a resume must match. Every rank resumes from rank 0's
/// newest checkpoint, read from the run folder (which must therefore be on a file system every rank sees).
struct RunTraining {
    let directory: RunDirectory
    let config: RunConfig
    let data: RunData
    /// Epoch lines go to standard error instead of standard output (a `--json` command).
    let quiet: Bool
    /// The processes training together (one, unless started by an MPI launcher).
    var ranks = TrainingRanks(communicator: SingleProcess())

    /// The checkpoint metadata key holding the number of ranks of the job that wrote it (absent: one process).
    static let ranksMetadataKey = "ranks"

    /// Trains (continuing from the newest checkpoint when `resume`, and then rewriting `config.json` with the
    /// epochs now asked for) and returns the trainer and its model.
    func run(device: any Device, resume: Bool) throws -> (Trainer, Autoencoder) {
        let communicator = ranks.communicator
        let model = try Autoencoder(config: config.model, device: device,
                                    batchSize: try ranks.localBatch(config.training.batchSize), seed: config.training.seed)
        let trainer = try data.trainer(model: model, config: config.training, communicator: communicator)
        if resume, let checkpoint = directory.latestCheckpoint() {
            let archive = try SafeTensorsFormat.read(checkpoint)
            let written = archive.metadata[Self.ranksMetadataKey].flatMap { Int($0) } ?? 1
            guard written == communicator.size else {
                throw ParallelRunError.ranksDiffer(checkpoint: checkpoint.path, written: written, now: communicator.size)
            }
            try trainer.restore(from: archive, file: checkpoint.path)
            if let epoch = trainer.interruptedEpoch {
                guard epoch <= config.training.epochs else {
                    throw ConfigError.invalid("\(directory.url.path) stopped within epoch \(epoch): continue it with --epochs \(epoch) or more")
                }
                note("resuming \(directory.url.path) within epoch \(epoch) (step \(trainer.step))")
            } else {
                note("resuming \(directory.url.path) after epoch \(trainer.epoch) (step \(trainer.step))")
            }
        }
        // a resumed run's config (its --epochs) changes once the checkpoint is known to continue
        if resume && ranks.ownsFiles { try writing(directory.configURL) { try directory.write(config: config) } }
        if !quiet && ranks.ownsFiles {
            let placement = ranks.isParallel ? "\(communicator.size) ranks (rank 0 on \(device.info))" : "\(device.info)"
            print("training \(config.model.kind.rawValue) (\(config.model.architecture.rawValue), \(model.store.parameterCount) parameters) on \(data.description.source): \(data.trainingCount) samples\(data.resident == nil ? " streamed from disk" : ""), \(Terminal.count(config.training.epochs, "epoch")) on \(placement)")
            if let storage = data.resident?.train.storage, storage.dtype != .float32 {
                print("data: kept as \(storage.dtype) on \(device.info.selector), \(Terminal.bytes(storage.byteCount)) for the training samples (\(Terminal.bytes(storage.count * 4)) as float32)")
            }
        }
        let forcedFailure = ForcedFailure(environment: ProcessInfo.processInfo.environment)
        Interruption.catchSignals()
        defer { Interruption.restoreDefaults() }
        try trainer.run(events: { if ranks.ownsFiles { report($0, total: config.training.epochs) } }, epochEnd: { metrics, isBest in
            try forcedFailure?.check(rank: communicator.rank, epoch: metrics.epoch)
            guard ranks.ownsFiles else { return }
            try writing(directory.metricsURL) { try directory.write(metrics: trainer.history) }
            let every = config.training.checkpointEvery
            if every > 0 && metrics.epoch % every == 0 {
                let url = directory.checkpointURL(epoch: metrics.epoch)
                try writing(url) { try SafeTensorsFormat.write(try checkpoint(of: trainer), to: url) }
                pruneCheckpoints(keep: 2)
            }
            removePartialCheckpoints(through: metrics.epoch)
            if isBest { try writing(directory.bestURL) { try directory.write(model: model, to: directory.bestURL) } }
        }, shouldStop: { Interruption.requested })
        if let epoch = trainer.interruptedEpoch {
            if ranks.ownsFiles {
                Terminal.finishStatus()
                try writing(directory.metricsURL) { try directory.write(metrics: trainer.history) }
                let url = directory.partialCheckpointURL(epoch: epoch)
                try writing(url) { try SafeTensorsFormat.write(try checkpoint(of: trainer), to: url) }
                try writing(directory.modelURL) { try directory.write(model: model) }
            }
            throw RunError.interrupted(epoch: epoch, step: trainer.step, directory: directory.url.path)
        }
        if ranks.ownsFiles { try writing(directory.modelURL) { try directory.write(model: model) } }
        return (trainer, model)
    }

    /// The trainer's checkpoint, with the number of ranks in its metadata when there are several.
    private func checkpoint(of trainer: Trainer) throws -> SafeTensorsArchive {
        var archive = try trainer.checkpoint()
        if ranks.isParallel { archive.metadata[Self.ranksMetadataKey] = String(ranks.communicator.size) }
        return archive
    }

    /// A line on standard error, from rank 0 only.
    private func note(_ line: String) {
        if ranks.ownsFiles { Terminal.note(line) }
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
            let line = String(format: "epoch %d/%d loss %.4f rec %.4f", m.epoch, total, m.loss, m.reconstruction)
                + m.terminalTerms + String(format: " %.0f samples/s", m.samplesPerSecond)
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
