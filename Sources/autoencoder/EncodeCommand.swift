import ArgumentParser
import AutoencoderKit
import Foundation

/// `autoencoder encode`: the codes of a data set as features for other tools.
struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Write the codes of a data set: μ for VAEs, h for other autoencoders, code vectors and indices for VQ-VAE.",
        discussion: """
        FILE.npy gets the n × latent float32 codes (VQ-VAE: also FILE-indices.npy, the n × positions int32 codebook \
        indices). FILE.csv gets columns z0…, then code0… for VQ-VAE, then label when the data has labels. A \
        streamed run's test split, and a .npy file or shard folder over the memory budget, are read and written \
        a batch at a time; the files appear only once complete.
        """)

    @OptionGroup var runOptions: RunOptions
    @Option(help: "Data to encode (default: the run's own test split).") var data: String?
    @Option(help: "Output file, .npy or .csv.") var out: String
    @OptionGroup var streaming: StreamChoice

    func validate() throws {
        let url = URL(fileURLWithPath: out)
        guard ["npy", "csv"].contains(url.pathExtension.lowercased()) else {
            throw ValidationError("--out \(url.lastPathComponent): codes are written as .npy or .csv")
        }
    }

    func run() throws {
        let url = URL(fileURLWithPath: out)
        let config = try runOptions.readConfig()
        let opened = try runOptions.open(config: config, batchSize: 256)
        if let streamed = try StreamedData.open(data, for: config, split: .test, choice: streaming, device: opened.device) {
            let rows = try streamed.rows(device: opened.device, batchSize: opened.model.batchSize)
            Interruption.catchSignals()
            defer { Interruption.restoreDefaults() }
            guard let files = try opened.model.writeCodes(of: rows, to: url, shouldStop: { Interruption.requested }) else {
                throw RunError.interruptedWriting(path: url.path)
            }
            print("wrote \(rows.count) codes of \(opened.model.latentDim) values to \(files.map(\.path).joined(separator: ", ")) (\(streamed.name))")
            return
        }
        let dataset = try opened.data(data)
        let codes = try opened.model.encode(dataset)
        let files = try codes.write(to: url)
        print("wrote \(codes.count) codes of \(codes.dimension) values to \(files.map(\.path).joined(separator: ", "))")
    }
}
