import ArgumentParser
import AutoencoderKit
import Foundation

/// `scaling`: data-parallel training epochs under mpirun, with the all-reduce's share of the time.
struct ScalingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scaling",
        abstract: "Under mpirun -np N, train a workload data-parallel (a fixed batch per rank) and time it.",
        discussion: """
            Every rank trains on its rows of each global batch of N × --batch-size samples of the same synthetic \
            data (60,000 samples, uniform in [0, 1]; 6,000 with --quick), after a warm-up epoch of 20 global \
            batches. Rank 0 prints one record per timed epoch: samples per second over all ranks, microseconds per \
            step, and the share of the epoch rank 0 spent inside collectives (the gradient all-reduce and the \
            epoch sums). Without mpirun it runs as one rank, the baseline.
            """)

    @Option(name: .long, help: "mlp-vae or conv-vae (any workload of `epoch`).")
    var workload: Workload
    @Option(name: .long, help: "Samples per step on each rank.")
    var batchSize = 128
    @Option(name: .long, help: "cpu, or opencl (device number local-rank), or opencl:N.")
    var device = "cpu"
    @Option(name: .long, help: "Timed epochs.")
    var epochs = 2
    @Flag(name: .long, help: "Epochs of 6,000 samples.")
    var quick = false
    @Flag(name: .long, help: "One JSON object per line instead of a markdown table.")
    var json = false

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        guard epochs > 0 else { throw ValidationError("--epochs must be positive") }
    }

    func run() throws {
        let communicator = try Communicators.fromEnvironment()
        do {
            let records = try measure(communicator: communicator)
            try communicator.finalize()
            guard communicator.isRoot else { return }
            if json { records.forEach { print($0.jsonLine) } } else { printTable(records, columns: scalingColumns) }
        } catch {
            FileHandle.standardError.write(Data("rank \(communicator.rank): error: \(error)\n".utf8))
            communicator.abort(code: 1)
        }
    }

    private func measure(communicator: any Communicator) throws -> [BenchRecord] {
        let selector = device == "opencl" ? "opencl:\(communicator.localRank)" : device
        let target = try Devices.open(DeviceSelection(parsing: selector))
        let samples = quick ? 6_000 : 60_000, ranks = communicator.size
        var random = UniformFloats(seed: 42)
        let data = Dataset(name: "uniform", shape: workload.sampleShape, features: random.next(samples * 784))
        let model = try Autoencoder(config: workload.config, device: target, batchSize: batchSize, seed: 0)
        var training = TrainingConfig()
        training.batchSize = batchSize * ranks
        training.validationFraction = 0
        training.epochs = 1
        let warmup = data.subset(Array(0..<min(samples, 20 * training.batchSize)))
        try Trainer(model: model, config: training, training: warmup, validation: nil, communicator: communicator).run()

        training.epochs = epochs
        let trainer = try Trainer(model: model, config: training, training: data, validation: nil,
                                  communicator: communicator)
        trainer.progressInterval = Int.max
        var records: [BenchRecord] = []
        var communicationBefore = trainer.communicationSeconds
        try trainer.run(events: { event in
            guard case .epoch(let metrics) = event else { return }
            let communication = trainer.communicationSeconds - communicationBefore
            communicationBefore = trainer.communicationSeconds
            var record = BenchRecord()
            record["benchmark"] = .text("scaling")
            record["workload"] = .text(workload.rawValue)
            record["device"] = .text(target.info.selector)
            record["ranks"] = .integer(ranks)
            record["batch_per_rank"] = .integer(batchSize)
            record["epoch"] = .integer(metrics.epoch)
            record["samples_per_second"] = .number(metrics.samplesPerSecond)
            record["us_per_step"] = .number(metrics.seconds / Double(trainer.stepsPerEpoch) * 1e6)
            record["allreduce_share"] = .number(communication / max(metrics.seconds, 1e-9))
            record["parameter_bytes"] = .integer(model.store.parameterCount * MemoryLayout<Float>.size)
            records.append(record)
        })
        return records
    }
}

let scalingColumns = [("workload", "workload"), ("device", "device"), ("ranks", "ranks"),
                      ("batch_per_rank", "batch/rank"), ("epoch", "epoch"), ("samples_per_second", "samples/s"),
                      ("us_per_step", "µs/step"), ("allreduce_share", "collective share"),
                      ("parameter_bytes", "parameter bytes")].map { (key: $0.0, title: $0.1) }
