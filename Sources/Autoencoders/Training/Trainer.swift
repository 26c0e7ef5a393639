import Compute
import Distributed
import Foundation
import Layers

/// What the trainer tells its caller while it runs.
public enum TrainingEvent: Sendable {
    /// Within an epoch: the running means of the loss terms so far (read back every few steps).
    case progress(epoch: Int, batch: Int, batches: Int, loss: Double, reconstruction: Double, kl: Double?,
                  samplesPerSecond: Double)
    /// An epoch finished.
    case epoch(EpochMetrics)
    /// Something the user should know (posterior collapse, a skipped non-finite batch, early stopping).
    case warning(String)
}

/// Training failures that are not usage errors.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// The loss became NaN or infinite.
    case nonFinite(epoch: Int, step: Int, hint: String)
    /// Data-parallel ranks hold different parameters after an epoch (checksums compared across the ranks).
    case diverged(epoch: Int, rank: Int)

    public var description: String {
        switch self {
        case .nonFinite(let epoch, let step, let hint):
            return "the training loss became NaN or infinite in epoch \(epoch) (step \(step)); \(hint)"
        case .diverged(let epoch, let rank):
            return "after epoch \(epoch) the parameters of rank \(rank) differ from rank 0's: the ranks diverged (a device or reduction fault)"
        }
    }
}

/// Trains an ``Autoencoder`` on a data set resident on its device: shuffled batches gathered on the device,
/// one fused optimizer update per step, loss terms summed on the device and read back every few steps.
///
/// A step (gather, zero gradients, forward and backward, optimizer update) allocates no device buffer, reads
/// nothing back and never waits for the device, so the host runs ahead of an asynchronous device. The reads are
/// the running sums every ``progressInterval`` steps and the epoch-end metrics; allocations happen only when
/// the trainer is made and in the validation pass, never per step. One configuration reads per step by design:
/// `--on-nan skip` (``NonFinitePolicy/skip``) reads the one-element objective sum after each step, since whether
/// to apply or drop that step's update is decided on the host (a device-side mask cannot undo NaN gradients
/// that already entered Adam's moments).
///
/// A run is reproducible from its seed, and a run resumed from its ``checkpoint()`` continues exactly: the data
/// order comes from (seed, epoch) and every random draw from (seed, step).
///
/// Given a ``Communicator`` of N processes (data-parallel training, each rank with its own device and a model
/// built for B/N samples), the trainer trains what one process would on global batches of B: each rank takes
/// its rows of every global batch, and the ranks sum their gradients, batch-wide statistics, epoch sums and
/// metrics, and agree on every decision (`--on-nan skip`, stopping, early stopping, restarts). The ranks
/// check at start that they train the same configuration on the same data, and after each epoch that their
/// parameters are still equal.
public final class Trainer {
    /// The model being trained.
    public let model: Autoencoder
    /// How it trains.
    public let config: TrainingConfig
    /// Metrics of every finished epoch.
    public private(set) var history: [EpochMetrics] = []
    /// Optimizer steps taken.
    public private(set) var step = 0
    /// Epochs finished.
    public var epoch: Int { history.count }
    /// Best validation (or training) loss so far and the epoch that reached it.
    public private(set) var best: (loss: Double, epoch: Int)?
    /// The epoch a stop request (``run(events:epochEnd:shouldStop:)``) left unfinished, numbered from 1; nil when
    /// no epoch is half done. The next ``run(events:epochEnd:shouldStop:)`` continues it.
    public var interruptedEpoch: Int? { partialEpoch.map { _ in epoch + 1 } }
    /// How far the unfinished epoch got: its position is part of ``checkpoint()``.
    var partialEpoch: PartialEpoch?

    let optimizer: any Optimizer
    /// The ranks training together (one, without a launcher).
    let ranks: DataParallel
    let training: any BatchedRows
    let validation: (any BatchedRows)?
    /// Under `--on-nan skip`, the epoch sums before the current step, restored on the device if it goes non-finite.
    private let sumsBeforeStep: Buffer?
    /// Whether the gradient buffer holds zeros: after each applied update (the optimizer clears it), not before
    /// the first step or after a skipped one.
    private var gradientsAreZero = false
    private var stopRequested = false
    private var collapseReported = false
    /// Read the running sums back every this many steps for progress events.
    public var progressInterval = 25

    /// Prepares training of `model` on `training` rows (count × model.inputDimension), validating on `validation`,
    /// both uploaded to the model's device.
    ///
    /// With a `communicator` of N ranks, ``TrainingConfig/batchSize`` is the global batch: it must divide by N,
    /// and `model` is built for batches of B/N. Every rank must call this with the same configuration and data
    /// (checked: the ranks exchange their facts, and a difference throws naming it).
    public convenience init(model: Autoencoder, config: TrainingConfig, training: Dataset, validation: Dataset?,
                            communicator: any Communicator = SingleProcess()) throws {
        try config.validate(trainingSamples: training.count)
        func resident(_ data: Dataset) throws -> DeviceDataset {
            guard data.dimension == model.inputDimension else {
                throw ConfigError.invalid("the data has \(data.dimension) features per sample but the model expects \(model.inputDimension)")
            }
            return try DeviceDataset(device: model.device, data: data, batchSize: model.batchSize)
        }
        try self.init(model: model, config: config, training: try resident(training),
                      validation: try validation.flatMap { $0.count > 0 ? try resident($0) : nil }, communicator: communicator)
    }

    /// Prepares training of `model` on rows resident on its device or streamed from disk (``BatchedRows``, in
    /// batches of the model's batch size), validating on `validation`; otherwise as the initializer that takes
    /// ``Dataset``s.
    public init(model: Autoencoder, config: TrainingConfig, training: any BatchedRows, validation: (any BatchedRows)?,
                communicator: any Communicator = SingleProcess()) throws {
        try config.validate(trainingSamples: training.count)
        for data in [training] + (validation.map { [$0] } ?? []) {
            guard data.dimension == model.inputDimension else {
                throw ConfigError.invalid("the data has \(data.dimension) features per sample but the model expects \(model.inputDimension)")
            }
            precondition(data.batchSize == model.batchSize && data.device === model.device,
                         "data batched for another batch size or device than the model's")
        }
        let ranks = communicator.size
        guard config.batchSize % ranks == 0 else {
            throw ConfigError.invalid("--batch-size \(config.batchSize) must divide by the \(ranks) ranks: it is the global batch, each rank takes an equal part (use \(max(ranks, config.batchSize / ranks * ranks)))")
        }
        guard config.batchSize / ranks == model.batchSize else {
            throw ConfigError.invalid("the model was built for batches of \(model.batchSize), the training config asks for \(config.batchSize)\(ranks > 1 ? " over \(ranks) ranks" : "")")
        }
        self.model = model
        self.config = config
        self.ranks = DataParallel(communicator: communicator)
        let device = model.device
        self.training = training
        self.validation = validation.flatMap { $0.count > 0 ? $0 : nil }
        try model.latent.startTraining(model: model, training: training, validation: self.validation, seed: config.seed)
        sumsBeforeStep = config.onNonFinite == .skip ? try device.makeBuffer(count: EpochSums.slots, dtype: .float32) : nil
        let lr = Float(config.learningRate), clip = config.gradientClip.map(Float.init)
        switch config.optimizer {
        case .adam:
            optimizer = try Adam(store: model.store, hyper: AdamParameters(learningRate: lr, weightDecay: Float(config.weightDecay)),
                                 maxGradientNorm: clip)
        case .adamw:
            optimizer = try AdamW(store: model.store, learningRate: lr, weightDecay: Float(config.weightDecay),
                                  maxGradientNorm: clip)
        case .sgd:
            optimizer = try SGD(store: model.store, learningRate: lr, momentum: Float(config.momentum),
                                weightDecay: Float(config.weightDecay), maxGradientNorm: clip)
        }
        if self.ranks.isParallel {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            try self.ranks.agree(on: [
                ("the number of training samples", Double(training.count)),
                ("the number of validation samples", Double(validation?.count ?? 0)),
                ("the features per sample", Double(training.dimension)),
                ("the training data (a checksum)", training.fingerprint()),
                ("the model configuration", DataParallel.fingerprint(try encoder.encode(model.config))),
                ("the training configuration", DataParallel.fingerprint(try encoder.encode(config))),
                ("the initial parameters (a checksum of them)", DataParallel.fingerprint(model.device.read(model.store.values))),
            ])
        }
    }

    /// Seconds this trainer's rank has spent in collectives with the other ranks (0 with one process): the
    /// communication share of data-parallel training.
    public var communicationSeconds: Double { ranks.collectiveSeconds }

    /// Steps per epoch (partial global batches are dropped).
    public var stepsPerEpoch: Int { training.count / config.batchSize }
    /// Steps of the whole run.
    public var totalSteps: Int { stepsPerEpoch * config.epochs }

    /// Trains until ``TrainingConfig/epochs`` epochs are done or early stopping triggers. After each epoch,
    /// `epochEnd` gets the metrics and whether this epoch is the best so far (to write checkpoints).
    ///
    /// `shouldStop` is asked after every step (an interrupt handler's flag): when it answers true, the epoch stops
    /// after that step and `run` returns with ``interruptedEpoch`` set. ``checkpoint()`` then records the position
    /// within the epoch, and a trainer continued from it (here or after ``restore(from:file:)``) finishes the epoch
    /// exactly as an uninterrupted run would.
    public func run(events: (TrainingEvent) -> Void = { _ in },
                    epochEnd: (EpochMetrics, _ isBest: Bool) throws -> Void = { _, _ in },
                    shouldStop: () -> Bool = { false }) throws {
        while epoch < config.epochs && !stopRequested {
            guard let metrics = try trainEpoch(events: events, shouldStop: shouldStop) else { return }
            let monitored = metrics.validationLoss ?? metrics.loss
            let isBest = best.map { monitored < $0.loss } ?? true
            if isBest { best = (monitored, metrics.epoch) }
            history.append(metrics)
            events(.epoch(metrics))
            warnAboutCollapse(metrics, events: events)
            try epochEnd(metrics, isBest)
            if let patience = config.earlyStoppingPatience, let best, metrics.epoch - best.epoch >= patience {
                events(.warning("early stopping: no better validation loss for \(patience) epoch\(patience == 1 ? "" : "s") (best \(String(format: "%.4f", best.loss)) at epoch \(best.epoch))"))
                stopRequested = true
            }
        }
    }

    /// Puts back the counters of a resumed run.
    func restoreProgress(history: [EpochMetrics], step: Int, best: (loss: Double, epoch: Int)?) {
        self.history = history
        self.step = step
        self.best = best
    }

    /// The KL term in force at a step.
    func klTerm(step: Int) -> Autoencoder.KLTerm {
        let beta = config.klSchedule.weight(step: step, totalSteps: totalSteps, beta: model.config.beta)
        if let capacity = model.config.capacity {
            return .init(weight: beta, capacity: (capacity.capacity(step: step), capacity.gamma))
        }
        return .init(weight: beta)
    }

    /// One epoch, or the rest of an interrupted one; nil when `shouldStop` stopped it (``partialEpoch`` says where).
    private func trainEpoch(events: (TrainingEvent) -> Void, shouldStop: () -> Bool) throws -> EpochMetrics? {
        let device = model.device
        let number = epoch + 1
        let resumed = partialEpoch
        partialEpoch = nil
        // a continued epoch keeps its sums (on the device, or put back by restore) and its time so far
        let start = Date().addingTimeInterval(-(resumed?.seconds ?? 0))
        if resumed == nil { model.resetEpochSums() }
        let order = (config.epochOrder ?? .permutation).order(count: training.count, seed: config.seed, epoch: epoch)
        var batches = training.batches(order: ranks.localOrder(order, globalBatch: config.batchSize), dropLast: true)
        batches.skip(resumed?.batches ?? 0)
        // samples of the global batches trained on (every rank applies or skips a step alike)
        var seen = resumed?.seen ?? 0
        var skipped = resumed?.skipped ?? 0
        var done = resumed?.batches ?? 0
        for batch in batches {
            done += 1
            let (applied, stop) = trainStep(on: batch, shouldStop: shouldStop)
            if applied { seen += batch.valid * ranks.size } else { skipped += 1 }
            if stop {
                try device.checkHealth()
                try checkFinite(epochSums().objective, epoch: number)
                // the checkpoint (rank 0's) holds the sums over every rank; the others continue from zero
                ranks.sumInPlace(model.epochAccumulatorBuffers, device: device)
                partialEpoch = PartialEpoch(batches: done, seen: seen, skipped: skipped,
                                            seconds: Date().timeIntervalSince(start))
                return nil
            }
            guard applied else { continue }
            if done % progressInterval == 0 {
                let sums = epochSums()
                try checkFinite(sums.objective, epoch: number)
                let n = Double(max(seen, 1))
                events(.progress(epoch: number, batch: done, batches: batches.batchCount, loss: sums.objective / n,
                                 reconstruction: sums.reconstruction / n,
                                 kl: model.latent.terms.contains(.kl) ? sums.kl / n : nil,
                                 samplesPerSecond: Double(seen) / max(Date().timeIntervalSince(start), 1e-9)))
            }
        }
        try batches.check()
        try device.checkHealth()
        // the accumulators of every rank summed, before the latent reads them (metrics, dead-code restarts)
        ranks.sumInPlace(model.epochAccumulatorBuffers, device: device)
        let sums = model.readEpochSums()
        try checkFinite(sums.objective, epoch: number)
        if skipped > 0 { events(.warning("epoch \(number): skipped \(skipped) batches with a non-finite loss")) }
        let seconds = Date().timeIntervalSince(start)
        let n = Double(max(seen, 1))
        var metrics = EpochMetrics(epoch: number, step: step, loss: sums.objective / n,
                                   reconstruction: sums.reconstruction / n,
                                   learningRate: Double(optimizer.learningRate),
                                   samplesPerSecond: Double(seen) / max(seconds, 1e-9), seconds: seconds)
        model.describeEpoch(into: &metrics, sums: sums, samples: seen, klWeight: klTerm(step: max(step - 1, 0)).weight)
        try model.endEpoch(data: training, rows: config.batchSize, seed: config.seed, epoch: epoch)
        var validationResult: EvaluationResult?
        if let validation {
            let result = try Evaluation.run(model: model, data: validation, seed: config.seed, perSample: false)
            validationResult = result
            metrics.validationLoss = result.loss
            metrics.validationReconstruction = result.reconstruction
            metrics.validationKL = result.kl
        }
        metrics.activeUnits = try Evaluation.activeUnits(model: model, data: validation ?? training)
        try model.latent.review(EpochReview(model: model, number: number, isLast: number == config.epochs, seed: config.seed,
                                            training: training, validation: validation, validationResult: validationResult,
                                            trainingSquaredError: sums.reconstruction / n * Double(training.count),
                                            optimizer: optimizer),
                                into: &metrics)
        try checkRanksAgree(epoch: number)
        return metrics
    }

    /// The epoch sums so far, summed over the ranks.
    private func epochSums() -> EpochSumValues { ranks.sum(model.readEpochSums()) }

    /// Compares a checksum of every rank's parameters and state with rank 0's (data-parallel training only).
    private func checkRanksAgree(epoch: Int) throws {
        guard ranks.isParallel else { return }
        let checksums = ranks.gather([DataParallel.fingerprint(model.device.read(model.store.values)),
                                      DataParallel.fingerprint(model.device.read(model.store.states))])
        if let rank = checksums.indices.first(where: { checksums[$0] != checksums[0] }) {
            throw TrainingError.diverged(epoch: epoch, rank: rank)
        }
    }

    /// One optimizer step on a gathered batch, as an epoch runs it: zero the gradients unless the last update did, forward and backward
    /// (``Autoencoder/trainStep(_:context:kl:)``), the update at the scheduled learning rate with the latent's upkeep
    /// on either side of it (an SAE's decoder gradient projection and column norms). Data-parallel ranks sum their
    /// gradients (and their flags) before the update.
    ///
    /// Returns whether the update was applied (false when `--on-nan skip` dropped the batch for a non-finite
    /// loss; the step counter advances either way) and whether to stop after it (`shouldStop` on this rank or,
    /// data-parallel, on any).
    func trainStep(on batch: RowBatch, shouldStop: () -> Bool = { false }) -> (applied: Bool, stop: Bool) {
        defer { step += 1 }
        if !gradientsAreZero { model.store.zeroGradients() }
        gradientsAreZero = false
        if let sumsBeforeStep { model.saveEpochSums(into: sumsBeforeStep.whole) }
        let context = StepContext(training: true, seed: config.seed, step: step,
                                  shard: ranks.shard(globalBatch: config.batchSize))
        model.trainStep(batch.x, context: context, kl: klTerm(step: step))
        // whether to apply this batch's update is a host decision: the one read-back of a step under --on-nan skip
        var flags = DataParallel.StepFlags(nonFinite: sumsBeforeStep != nil && !model.device.read(model.objectiveSum)[0].isFinite,
                                           stop: shouldStop())
        if ranks.isParallel { flags = ranks.allReduce(gradients: model.store.gradients, device: model.device, flags: flags) }
        if let sumsBeforeStep, flags.nonFinite {
            model.restoreEpochSums(from: sumsBeforeStep.whole)
            return (false, flags.stop)
        }
        optimizer.learningRate = Float(config.learningRateSchedule.rate(
            base: config.learningRate, step: step, totalSteps: totalSteps, epoch: epoch))
        model.latent.beforeUpdate()
        optimizer.step(store: model.store)
        gradientsAreZero = true
        model.latent.afterUpdate()
        return (true, flags.stop)
    }


    private func checkFinite(_ value: Double, epoch: Int) throws {
        guard value.isFinite else {
            throw TrainingError.nonFinite(epoch: epoch, step: step, hint: config.onNonFinite == .stop
                ? "the last checkpoint is the last good state: lower --lr (now \(config.learningRate)), add --clip, or use --on-nan skip"
                : "lower --lr or add --clip")
        }
    }

    /// Warns once when, a quarter into the run (and at least 5 epochs in), most latent dimensions carry no KL.
    private func warnAboutCollapse(_ metrics: EpochMetrics, events: (TrainingEvent) -> Void) {
        guard !collapseReported, metrics.epoch >= max(5, config.epochs / 4) || metrics.epoch == config.epochs,
              let perDimension = metrics.klPerDimension, !perDimension.isEmpty else { return }
        let collapsed = perDimension.filter { $0 < 0.01 }.count
        if collapsed * 2 > perDimension.count {
            collapseReported = true
            events(.warning("posterior collapse: \(collapsed) of \(perDimension.count) latent dimensions carry KL < 0.01 nats; consider --kl-schedule linear:STEPS, --free-bits or a smaller --beta"))
        }
    }
}
