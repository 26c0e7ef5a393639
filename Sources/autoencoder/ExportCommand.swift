import ArgumentParser
import AutoencoderKit
import Foundation

/// `autoencoder export`: a trained sparse autoencoder's dictionary in the layout of sparsify or SAELens.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a --sae run's dictionary as sparsify or SAELens load it (cfg.json and safetensors weights).",
        discussion: """
        sparsify: `SparseCoder.load_from_disk(OUT)` (cfg.json, sae.safetensors with encoder.weight, encoder.bias, \
        W_dec, b_dec). saelens: `SAE.load_from_disk(OUT)` (cfg.json with architecture topk, sae_weights.safetensors \
        with W_enc, b_enc, W_dec, b_dec). Either computes the run's own codes and reconstructions. OUT appears only \
        once complete; an earlier export there is replaced.
        """)

    @OptionGroup var runOptions: RunOptions
    @Option(help: .choice("The tool to load the dictionary.", of: SAEExportFormat.self, default: .sparsify),
            transform: SAEExportFormat.choice(of: "--format")) var format: SAEExportFormat = .sparsify
    @Option(help: "Output folder (default: RUN/FORMAT).") var out: String?

    func run() throws {
        let config = try runOptions.readConfig()
        let opened = try runOptions.open(config: config, batchSize: 1)
        let url = runOptions.output(out, default: format.rawValue)
        try opened.model.exportSAE(format: format, to: url)
        print("wrote \(url.path)/ for \(format.rawValue): \(opened.model.latentDim) latents of \(opened.model.inputDimension) features")
    }
}
