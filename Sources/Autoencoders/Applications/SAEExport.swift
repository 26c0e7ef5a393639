import Foundation

/// The layouts other sparse-autoencoder tools load a dictionary from.
public enum SAEExportFormat: String, CaseIterable, Sendable {
    /// EleutherAI's sparsify: `cfg.json` and `sae.safetensors` with `encoder.weight` [l, n], `encoder.bias` [l],
    /// `W_dec` [l, n], `b_dec` [n] (`SparseCoder.load_from_disk`). sparsify encodes x − b_dec, so the exported
    /// encoder bias is b_e + W_e·b_d.
    case sparsify
    /// SAELens: `cfg.json` (architecture `topk`) and `sae_weights.safetensors` with `W_enc` [n, l], `b_enc` [l],
    /// `W_dec` [l, n], `b_dec` [n] (`SAE.load_from_disk`), the input not centred (`apply_b_dec_to_input` false).
    case saelens
}

extension Autoencoder {
    /// Writes this sparse autoencoder's dictionary into the folder `url` (created, or replaced) in `format`, so that
    /// the other tool's loader computes the same codes and reconstructions: the top-k among ReLU pre-activations,
    /// x̂ = W_d z + b_d. Only such models export (``SAEOptions/rectify``); the files appear only once complete.
    ///
    /// - Throws: ``ConfigError`` for another kind of model; file errors.
    public func exportSAE(format: SAEExportFormat, to url: URL) throws {
        guard config.kind == .sparse, config.sae?.rectify == true, case .topK(let k) = config.sparsity else {
            throw ConfigError.invalid("only a top-k sparse autoencoder trained with --sae exports to \(format.rawValue) (its codes are the top k of ReLU pre-activations)")
        }
        let n = inputDimension, l = latentDim
        let tensors = weights()
        func floats(_ name: String) throws -> [Float] {
            guard case .float32(let values)? = tensors[name]?.elements else {
                throw ConfigError.invalid("the model lacks \(name): not a one-layer sparse autoencoder")
            }
            return values
        }
        let we = try floats("encoder.0.weight"), be = try floats("encoder.0.bias")
        let wd = try floats("decoder.0.weight"), bd = try floats("decoder.0.bias")
        /// The rows×cols row-major `a` transposed.
        func transposed(_ a: [Float], rows: Int, cols: Int) -> [Float] {
            (0..<(rows * cols)).map { a[($0 % rows) * cols + $0 / rows] }
        }
        let decoderRows = transposed(wd, rows: n, cols: l)  // W_dᵀ: one row per latent

        let archive: SafeTensorsArchive, weightsName: String, settings: [String: Any]
        switch format {
        case .sparsify:
            let centred = (0..<l).map { j in (0..<n).reduce(be[j]) { $0 + we[j * n + $1] * bd[$1] } }
            archive = SafeTensorsArchive(tensors: [
                "encoder.weight": HostTensor(shape: [l, n], float32: we),
                "encoder.bias": HostTensor(shape: [l], float32: centred),
                "W_dec": HostTensor(shape: [l, n], float32: decoderRows),
                "b_dec": HostTensor(shape: [n], float32: bd),
            ], metadata: ["format": "pt"])
            weightsName = "sae.safetensors"
            settings = ["activation": "topk", "expansion_factor": max(l / n, 1), "normalize_decoder": config.sae?.normalizeDecoder ?? false,
                        "num_latents": l, "k": k, "multi_topk": false, "skip_connection": false, "transcode": false, "d_in": n]
        case .saelens:
            archive = SafeTensorsArchive(tensors: [
                "W_enc": HostTensor(shape: [n, l], float32: transposed(we, rows: l, cols: n)),
                "b_enc": HostTensor(shape: [l], float32: be),
                "W_dec": HostTensor(shape: [l, n], float32: decoderRows),
                "b_dec": HostTensor(shape: [n], float32: bd),
            ], metadata: ["format": "pt"])
            weightsName = "sae_weights.safetensors"
            settings = ["architecture": "topk", "d_in": n, "d_sae": l, "k": k, "dtype": "float32", "device": "cpu",
                        "apply_b_dec_to_input": false, "normalize_activations": "none", "rescale_acts_by_decoder_norm": false]
        }
        // both files in a sibling folder first, then renamed into place
        let fileManager = FileManager.default
        let staging = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial-\(ProcessInfo.processInfo.processIdentifier)")
        try? fileManager.removeItem(at: staging)
        try fileManager.createDirectory(at: staging, withIntermediateDirectories: true)
        do {
            try SafeTensorsFormat.write(archive, to: staging.appendingPathComponent(weightsName))
            let json = try JSONSerialization.data(withJSONObject: settings, options: [.sortedKeys, .prettyPrinted])
            try AtomicFile.write(json, to: staging.appendingPathComponent("cfg.json"))
            if fileManager.fileExists(atPath: url.path) {
                // replace an earlier export, never another folder
                guard fileManager.fileExists(atPath: url.appendingPathComponent("cfg.json").path) else {
                    throw ConfigError.invalid("\(url.path) exists and is not an exported dictionary (no cfg.json): choose another folder")
                }
                try fileManager.removeItem(at: url)
            }
            try fileManager.moveItem(at: staging, to: url)
        } catch {
            try? fileManager.removeItem(at: staging)
            throw error
        }
    }
}
