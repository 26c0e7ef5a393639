import Compute
import Foundation

/// The folder a training run writes: `config.json`, `model.safetensors` (final weights, PyTorch names),
/// `metrics.csv` (one row per epoch) and `checkpoints/` (`epoch-NNNN.safetensors` with optimizer state, and
/// `best.safetensors`). Every file is written atomically.
public struct RunDirectory: Sendable {
    public let url: URL
    public var configURL: URL { url.appendingPathComponent("config.json") }
    public var modelURL: URL { url.appendingPathComponent("model.safetensors") }
    public var metricsURL: URL { url.appendingPathComponent("metrics.csv") }
    public var checkpointsURL: URL { url.appendingPathComponent("checkpoints") }
    public var bestURL: URL { checkpointsURL.appendingPathComponent("best.safetensors") }

    public init(url: URL) { self.url = url }

    /// Creates the folders (the run folder may exist, but must not hold another run's config).
    public func create() throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue {
            throw DataError(file: url.path, .invalidArgument("exists and is not a directory"))
        }
        if FileManager.default.fileExists(atPath: configURL.path) {
            throw DataError(file: url.path, .invalidArgument("already holds a run: choose another --out or use --resume"))
        }
        do {
            try FileManager.default.createDirectory(at: checkpointsURL, withIntermediateDirectories: true)
        } catch {
            throw DataError(file: url.path, .writeFailed("cannot create the run folder: \(error.localizedDescription)"))
        }
    }

    /// A fresh folder name under `parent`: `base`, else `base-2`, `base-3`, …
    public static func unused(base: String, in parent: URL) -> RunDirectory {
        var candidate = parent.appendingPathComponent(base)
        var n = 2
        while FileManager.default.fileExists(atPath: candidate.path) {
            candidate = parent.appendingPathComponent("\(base)-\(n)")
            n += 1
        }
        return RunDirectory(url: candidate)
    }

    public func write(config: RunConfig) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(config), to: configURL)
    }

    /// Reads and checks `config.json`.
    public func readConfig() throws -> RunConfig {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataError(file: url.path, .unreadable("no such run folder"))
        }
        guard let data = FileManager.default.contents(atPath: configURL.path) else {
            throw DataError(file: configURL.path, .unreadable("missing or unreadable: is \(url.path) a run folder?"))
        }
        let config: RunConfig
        do {
            config = try JSONDecoder().decode(RunConfig.self, from: data)
        } catch {
            throw DataError(file: configURL.path, .malformed(Self.describe(error)))
        }
        try config.model.validate()
        return config
    }

    /// The KL of each latent dimension per epoch (VAEs): `epoch,kl_0,kl_1,…`.
    public var klDimensionsURL: URL { url.appendingPathComponent("kl_dimensions.csv") }

    /// Writes `metrics.csv` with a header and one row per epoch, and for VAEs `kl_dimensions.csv`.
    public func write(metrics: [EpochMetrics]) throws {
        let lines = [EpochMetrics.csvHeader.joined(separator: ",")] + metrics.map { $0.csvRow.joined(separator: ",") }
        try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: metricsURL)
        guard let dimensions = metrics.last?.klPerDimension?.count else { return }
        let header = (["epoch"] + (0..<dimensions).map { "kl_\($0)" }).joined(separator: ",")
        let rows = metrics.compactMap { m in
            m.klPerDimension.map { ([String(m.epoch)] + $0.map { String(format: "%.6g", $0) }).joined(separator: ",") }
        }
        try AtomicFile.write(Data(([header] + rows).joined(separator: "\n").utf8 + Data("\n".utf8)), to: klDimensionsURL)
    }

    /// Writes the model's tensors to `model.safetensors` (or another file).
    public func write(model: Autoencoder, to file: URL? = nil) throws {
        try model.save(to: file ?? modelURL)
    }

    /// The checkpoint file of an epoch.
    public func checkpointURL(epoch: Int) -> URL {
        checkpointsURL.appendingPathComponent(String(format: "epoch-%04d.safetensors", epoch))
    }

    /// The end of a checkpoint taken within an epoch (an interrupted run): `epoch-NNNN-partial.safetensors`.
    public static let partialCheckpointSuffix = "-partial.safetensors"

    /// The checkpoint of an interrupted epoch `epoch` (numbered from 1). It sorts after the end of the epoch
    /// before and before the end of its own epoch, so ``latestCheckpoint()`` picks the newest state.
    public func partialCheckpointURL(epoch: Int) -> URL {
        checkpointsURL.appendingPathComponent(String(format: "epoch-%04d", epoch) + Self.partialCheckpointSuffix)
    }

    /// The newest `epoch-NNNN.safetensors` or `epoch-NNNN-partial.safetensors` file, if any (a folder of such a
    /// name is not a checkpoint).
    public func latestCheckpoint() -> URL? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: checkpointsURL.path)) ?? []
        return names.filter { $0.hasPrefix("epoch-") && $0.hasSuffix(".safetensors") }.sorted().reversed()
            .map { checkpointsURL.appendingPathComponent($0) }
            .first { (try? $0.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true }
    }

    /// The folder of ensemble member `index` (2, 3, …): `members/INDEX/` with its `model.safetensors`,
    /// `metrics.csv` and `checkpoints/`; its configuration is the run's own with seed + index − 1.
    public func member(_ index: Int) -> RunDirectory {
        RunDirectory(url: url.appendingPathComponent("members").appendingPathComponent(String(index)))
    }

    /// The run's models: its own and, for an ensemble, each member's (seed + 1, seed + 2, …), in that order.
    public func loadEnsemble(device: any Device, batchSize: Int, config: RunConfig) throws -> [Autoencoder] {
        var models = [try loadModel(device: device, batchSize: batchSize, config: config).0]
        for index in stride(from: 2, through: config.ensemble ?? 1, by: 1) {
            var memberConfig = config
            memberConfig.training.seed = config.training.seed &+ UInt64(index - 1)
            models.append(try member(index).loadModel(device: device, batchSize: batchSize, config: memberConfig).0)
        }
        return models
    }

    /// Rebuilds the trained model on `device` with workspaces for `batchSize` samples, from `model.safetensors`.
    public func loadModel(device: any Device, batchSize: Int, config: RunConfig? = nil) throws -> (Autoencoder, RunConfig) {
        let config = try config ?? readConfig()
        guard FileManager.default.fileExists(atPath: modelURL.path) else {
            let hint = latestCheckpoint() != nil
                ? "training did not finish; continue it with `autoencoder train --resume \(url.path)`"
                : "no checkpoint either; train again with `autoencoder train --out DIR`"
            throw DataError(file: modelURL.path, .unreadable("no such file in the run folder \(url.path): \(hint)"))
        }
        let model = try Autoencoder(config: config.model, device: device, batchSize: batchSize, seed: config.training.seed)
        let archive = try SafeTensorsFormat.read(modelURL)
        try model.load(weights: archive.tensors, file: modelURL.path)
        return (model, config)
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing field \(key.stringValue)"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
             DecodingError.dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "\(path.isEmpty ? "" : path + ": ")\(context.debugDescription)"
        default: return "\(error)"
        }
    }
}
