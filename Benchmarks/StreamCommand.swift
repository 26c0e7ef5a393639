import ArgumentParser
import AutoencoderKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `stream`: a sparse autoencoder trained on a `.npy` of activations streamed from disk, its speed and its peak
/// resident memory, against the same rows resident on the device.
struct StreamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream",
        abstract: "Train an SAE epoch on a .npy streamed from disk (or resident), reporting samples/s and peak memory.",
        discussion: """
            The file is written first when it does not exist: --rows × --dim float32 activations (sums of a few of \
            512 random directions with random weights, as a model's residual stream looks to an SAE). The model is \
            `--model sparse --sae --top-k 32 --latent-dim 1024` at --batch-size. With --resident the first --take \
            rows are loaded and trained on from device memory; otherwise they are streamed with windowed epochs of \
            --block-rows × --window-blocks rows. Peak resident memory is the whole process's (getrusage). Run one \
            mode per process, so one's memory does not count in the other's. --cold evicts the file from the page \
            cache before training, so a streamed epoch reads from the disk (only its first epoch: later ones may hit \
            the cache again).
            """)

    @Option(name: .long, help: "The .npy file (written when missing).")
    var file: String
    @Option(name: .long, help: "Rows of a file to write.")
    var rows = 2_000_000
    @Option(name: .long, help: "Features per row of a file to write.")
    var dim = 256
    @Option(name: .long, help: "Train on the first this many rows (default: all).")
    var take: Int?
    @Flag(name: .long, help: "Load the rows into device memory instead of streaming them.")
    var resident = false
    @Option(name: .long, help: "cpu or opencl:N.")
    var device = "cpu"
    @Option(name: .long, help: "Samples per step.")
    var batchSize = 4096
    @Option(name: .long, help: "Rows per block of the windowed order.")
    var blockRows = 4096
    @Option(name: .long, help: "Blocks per shuffling window (one window is read while another trains).")
    var windowBlocks = 4
    @Option(name: .long, help: "Timed epochs.")
    var epochs = 1
    @Flag(name: .long, help: "Drop the file's pages from the page cache first (posix_fadvise DONTNEED), so the epoch reads the disk.")
    var cold = false
    @Flag(name: .long, help: "One JSON object per line instead of a markdown table.")
    var json = false

    func run() throws {
        let url = URL(fileURLWithPath: file)
        if !FileManager.default.fileExists(atPath: file) { try Self.writeActivations(to: url, rows: rows, dim: dim) }
        let source = try openRowSource(url)
        let count = min(take ?? source.count, source.count)
        let target = try Devices.open(DeviceSelection(parsing: device))
        var config = ModelConfig(kind: .sparse, inputShape: source.sampleShape)
        config.hidden = []
        config.latentDim = 1024
        config.sparsity = .topK(k: 32)
        config.likelihood = .gaussian
        config.sae = SAEOptions()
        let model = try Autoencoder(config: config, device: target, batchSize: batchSize, seed: 0)
        var training = TrainingConfig()
        training.batchSize = batchSize
        training.epochs = epochs
        training.validationFraction = 0
        let order = EpochOrder.windowed(blockRows: blockRows, windowBlocks: windowBlocks)
        training.epochOrder = order
        let data: any BatchedRows
        var streamed: StreamedDataset?
        if resident {
            var features = [Float](repeating: 0, count: count * source.dimension)
            try features.withUnsafeMutableBufferPointer { try source.read(0..<count, into: $0) }
            data = try DeviceDataset(device: target, features: features, dimension: source.dimension, batchSize: batchSize)
        } else {
            streamed = try StreamedDataset(source: source, ranges: [0..<count], device: target, batchSize: batchSize,
                                           chunkRows: order.windowRows)
            data = streamed!
        }
        let trainer = try Trainer(model: model, config: training, training: data, validation: nil)
        trainer.progressInterval = Int.max
        if cold { try Self.evictFromPageCache(url) }
        var records: [BenchRecord] = []
        try trainer.run(events: { event in
            guard case .epoch(let metrics) = event else { return }
            var record = BenchRecord()
            record["benchmark"] = .text("stream")
            record["mode"] = .text((resident ? "resident" : "streamed") + (cold ? ", cold" : ""))
            record["device"] = .text(target.info.selector)
            record["rows"] = .integer(count)
            record["data_mb"] = .number(Double(count * source.storedRowBytes) / 1e6)
            record["epoch"] = .integer(metrics.epoch)
            record["samples_per_second"] = .number(metrics.samplesPerSecond)
            record["wait_share"] = .number((streamed?.waitSeconds ?? 0) / max(metrics.seconds, 1e-9))
            record["peak_rss_mb"] = .number(Self.peakResidentMegabytes())
            records.append(record)
        })
        if json { records.forEach { print($0.jsonLine) } } else { printTable(records, columns: streamColumns) }
    }

    /// Asks the kernel to drop `url`'s cached pages, so that the next reads come from the disk.
    static func evictFromPageCache(_ url: URL) throws {
        let descriptor = open(url.path, O_RDONLY)
        guard descriptor >= 0 else { throw ValidationError("\(url.path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let status = posix_fadvise(descriptor, 0, 0, Int32(POSIX_FADV_DONTNEED))
        guard status == 0 else { throw ValidationError("\(url.path): posix_fadvise: \(String(cString: strerror(status)))") }
    }

    /// The process's peak resident set size so far, in MB (getrusage's ru_maxrss is in KiB on Linux).
    static func peakResidentMegabytes() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) * 1024 / 1e6
    }

    /// Writes `rows` × `dim` float32 activations, 65,536 rows at a time.
    static func writeActivations(to url: URL, rows: Int, dim: Int) throws {
        var random = UniformFloats(seed: 7)
        let directions = random.next(512 * dim, low: -1, high: 1)
        var header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(dim)), }".utf8)
        header += [UInt8](repeating: 0x20, count: (64 - (10 + header.count + 1) % 64) % 64) + [0x0A]
        let prefix: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header
        FileManager.default.createFile(atPath: url.path, contents: Data(prefix))
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        var generator = SplitMix64(seed: 11)
        var row = 0
        while row < rows {
            let n = min(65_536, rows - row)
            var block = [Float](repeating: 0, count: n * dim)
            for i in 0..<n {
                for _ in 0..<4 {
                    let direction = Int(generator.next() % 512), weight = Float(generator.next() >> 40) * 0x1p-24
                    for k in 0..<dim { block[i * dim + k] += weight * directions[direction * dim + k] }
                }
            }
            try handle.write(contentsOf: block.withUnsafeBytes { Data($0) })
            row += n
        }
    }
}

let streamColumns = [("mode", "mode"), ("device", "device"), ("rows", "rows"), ("data_mb", "data MB"), ("epoch", "epoch"),
                     ("samples_per_second", "samples/s"), ("wait_share", "wait share"),
                     ("peak_rss_mb", "peak RSS MB")].map { (key: $0.0, title: $0.1) }
