import AutoencoderKit
import Foundation

/// The training workloads, as the reference (`Benchmarks/anchors/torch_vae.py`) and `torch_side_by_side.py` define them.
enum Workload: String, CaseIterable {
    /// The seed VAE: 784-256-128-(μ, logvar 32), mirrored decoder, BCE + KL.
    case mlpVAE = "mlp-vae"
    /// Conv(1→32) → Conv(32→64) (4×4, stride 2) → dense 256 → latent 32, mirrored with transposed convolutions.
    case convVAE = "conv-vae"
    /// 784-256-128-32 encoder, 8 code vectors of 4 from a codebook of 64, mirrored decoder, BCE + codebook and
    /// commitment (β = 0.25) losses.
    case vqVAE = "vq-vae"
    /// Contractive autoencoder: one sigmoid layer 784→64 with the exact penalty λ‖∂h/∂x‖²_F (λ = 0.1), a
    /// linear decoder 64→784, BCE.
    case cae

    /// The model definition.
    var config: ModelConfig {
        switch self {
        case .mlpVAE:
            return ModelConfig(kind: .vae, inputShape: [784])
        case .convVAE:
            var config = ModelConfig(kind: .vae, architecture: .conv, inputShape: [1, 28, 28])
            config.channels = [32, 64]
            config.denseWidth = 256
            return config
        case .vqVAE:
            var config = ModelConfig(kind: .vqVAE, inputShape: [784])
            config.vq.codebookSize = 64
            config.vq.codeDim = 4
            return config
        case .cae:
            var config = ModelConfig(kind: .contractive, inputShape: [784])
            config.latentDim = 64
            return config
        }
    }

    /// Per-sample shape of the synthetic data.
    var sampleShape: [Int] { self == .convVAE ? [1, 28, 28] : [784] }
}

/// Times one epoch of a workload through the library's ``Trainer``.
struct EpochBenchmark {
    let workload: Workload
    let batchSize: Int
    /// Samples of the timed epoch (60,000, or 6,000 for a quick run whose times are scaled to 60,000).
    let samples: Int
    let warmupSteps = 20
    /// Steps of the separate host-issue measurement on asynchronous devices.
    let hostSteps = 100

    /// Runs `epochs` timed epochs after the warm-up and returns one record per epoch.
    func run(on device: any Device, epochs: Int) throws -> [BenchRecord] {
        var random = UniformFloats(seed: 42)
        let features = random.next(samples * 784)
        let data = Dataset(name: "uniform", shape: workload.sampleShape, features: features)
        let model = try Autoencoder(config: workload.config, device: device, batchSize: batchSize, seed: 0)
        var training = TrainingConfig()
        training.batchSize = batchSize
        training.learningRate = 1e-3
        training.optimizer = .adam
        training.validationFraction = 0

        // Warm-up: the same model through a trainer over the first warmupSteps batches (kernels compiled, memory touched).
        training.epochs = 1
        let warmupData = data.subset(Array(0..<min(samples, warmupSteps * batchSize)))
        try Trainer(model: model, config: training, training: warmupData, validation: nil).run()

        training.epochs = epochs
        let trainer = try Trainer(model: model, config: training, training: data, validation: nil)
        trainer.progressInterval = Int.max
        var records: [BenchRecord] = []
        let scale = 60_000 / Double(samples)
        var activityBefore = device.activity
        try trainer.run(events: { event in
            guard case .epoch(let metrics) = event else { return }
            let steps = Double(trainer.stepsPerEpoch)
            // device buffers allocated and host read-backs over the epoch (its end-of-epoch metric reads included)
            let activity = device.activity - activityBefore
            activityBefore = device.activity
            var record = BenchRecord()
            record["benchmark"] = .text("epoch")
            record["workload"] = .text(workload.rawValue)
            record["device"] = .text(device.info.selector)
            record["precision"] = .text(device.matmulPrecision.rawValue)
            record["batch_size"] = .integer(batchSize)
            record["samples"] = .integer(samples)
            record["epoch"] = .integer(metrics.epoch)
            record["seconds_per_epoch"] = .number(metrics.seconds * scale)
            record["samples_per_second"] = .number(metrics.samplesPerSecond)
            record["us_per_step"] = .number(metrics.seconds / steps * 1e6)
            record["loss"] = .number(metrics.loss)
            record["allocations_per_step"] = .number(Double(activity.allocations) / steps)
            record["reads_per_step"] = .number(Double(activity.reads) / steps)
            record["launches_per_step"] = .number(Double(activity.launches) / steps)
            records.append(record)
        })
        let hostMicroseconds = try hostIssueTime(model: model, data: data, device: device)
        for index in records.indices {
            records[index]["host_us_per_step"] = hostMicroseconds.map { .number($0) } ?? records[index]["us_per_step"]
        }
        return records.map(reorder)
    }

    /// On an asynchronous device, the host time of issuing one training step: the same calls as the trainer's
    /// step (forward and backward, then Adam, which clears the gradients for the next) for ``hostSteps`` steps,
    /// timed before the final synchronize. `nil` on the CPU backend, where issuing a step is running it.
    private func hostIssueTime(model: Autoencoder, data: Dataset, device: any Device) throws -> Double? {
        guard device.info.kind != .cpu else { return nil }
        let rows = try DeviceDataset(device: device, data: data, batchSize: batchSize)
        let steps = min(hostSteps, data.count / batchSize)
        let order = DeviceDataset.permutation(count: data.count, seed: 1, epoch: 0)
        let optimizer = try Adam(store: model.store)
        var batches = rows.batches(order: Array(order.prefix(steps * batchSize)), dropLast: true)
        model.store.zeroGradients()
        device.synchronize()
        let start = Timing.now()
        var step = 0
        while let batch = batches.next() {
            model.trainStep(batch.x, context: StepContext(training: true, seed: 1, step: step), kl: .init(weight: 1))
            optimizer.step(store: model.store)
            step += 1
        }
        let issued = Timing.now() - start
        try device.checkHealth()
        return issued / Double(max(step, 1)) * 1e6
    }

    /// Puts host_us_per_step after us_per_step.
    private func reorder(_ record: BenchRecord) -> BenchRecord {
        var out = BenchRecord()
        for (key, value) in record.fields where key != "host_us_per_step" {
            out[key] = value
            if key == "us_per_step" { out["host_us_per_step"] = record["host_us_per_step"] }
        }
        return out
    }
}

/// Table columns of epoch records.
let epochColumns: [(key: String, title: String)] = [
    ("workload", "workload"), ("batch_size", "batch"), ("device", "device"), ("precision", "precision"), ("seconds_per_epoch", "s/epoch"),
    ("samples_per_second", "samples/s"), ("us_per_step", "µs/step"), ("host_us_per_step", "host µs/step"),
    ("launches_per_step", "launches/step"), ("loss", "loss"),
]
