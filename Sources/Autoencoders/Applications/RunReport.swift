import Foundation

/// The pictures and the one-page report of a finished run, written into its folder:
/// - `loss.png`: the loss terms per epoch from `metrics.csv` (training loss, reconstruction and validation loss
///   on top; below, when the model has them, KL and β, or the penalty and codebook perplexity);
/// - `latent.png`: the test codes coloured by label, on their two principal components when the latent is wider
///   than 2 (``PrincipalComponents``);
/// - `report.html`: one self-contained page with these, reconstructions and prior samples for image data, the
///   final training metrics and the test metrics, and the run's configuration.
public enum RunReport {
    /// File names inside the run folder.
    public static let lossFile = "loss.png", latentFile = "latent.png", pageFile = "report.html"

    /// Writes the three files for `model`, the trained model of the run in `directory` (configuration `config`),
    /// and returns their URLs.
    public static func write(directory: RunDirectory, model: Autoencoder, config: RunConfig) throws -> [URL] {
        let metrics = try directory.readMetrics()
        let test = try PreparedData.load(source: nil, for: config, split: .test)
        let codes = try model.encode(test)
        let evaluation = try Evaluation.run(model: model, data: test, seed: config.training.seed)

        let lossURL = directory.url.appendingPathComponent(lossFile)
        let latentURL = directory.url.appendingPathComponent(latentFile)
        let pageURL = directory.url.appendingPathComponent(pageFile)
        let loss = lossPlot(metrics)
        let latent = latentPlot(codes, classNames: classNames(config))
        try loss.write(to: lossURL)
        try latent.write(to: latentURL)

        var report = HTMLReport(title: "Run \(directory.url.lastPathComponent)", summary: summary(config, metrics: metrics, test: test))
        report.metrics = finalMetrics(metrics, evaluation: evaluation)
        report.addSection("Training", [try .figure(loss, caption: "Loss terms per epoch (metrics.csv)")])
        let projection = codes.dimension > 2 ? "the first two principal components of the" : "the"
        report.addSection("Latent space", [try .figure(latent, caption: "Test codes on \(projection) \(codes.dimension)-dimensional latent, coloured by label")])
        if let images = try? RunImages(config: config) {
            let shown = min(test.count, 16)
            let inputs = Array(test.features.prefix(shown * test.dimension))
            let outputs = try model.decode(codes: Array(codes.values.prefix(shown * codes.dimension)))
            let reconstructions = images.reconstructionGrid(inputs: inputs, outputs: outputs, columns: 8)
            let prior = try LatentPrior.fit(model: model) { try PreparedData.load(source: nil, for: config, split: .train) }
            let samples = images.grid(try model.decode(codes: try prior.sample(count: 32, seed: config.training.seed,
                                                                                  device: model.device)), columns: 8)
            report.addSection("Reconstructions", [try .figure(reconstructions, caption: "Test inputs over their reconstructions")])
            report.addSection("Samples", [.paragraph("Decoded draws from \(prior.summary)."),
                                          try .figure(samples, caption: "32 samples from the prior")])
        }
        report.addSection("Model configuration", [.preformatted(try configurationText(config.model))])
        try report.write(to: pageURL)
        return [lossURL, latentURL, pageURL]
    }

    /// The settings of `model` that its kind uses, as pretty JSON: the architecture's (MLP widths, or convolution
    /// channels and dense width), the latent and likelihood, and only the kind's own (β, capacity and free bits
    /// for VAEs, the codebook for VQ-VAE, the corruption for denoising, the sparsity and SAE options for sparse,
    /// the contractive weight), never the defaults of other kinds.
    public static func configurationText(_ model: ModelConfig) throws -> String {
        guard var fields = try JSONSerialization.jsonObject(with: JSONEncoder().encode(model)) as? [String: Any] else {
            return ""
        }
        var unused: Set<String> = model.architecture == .mlp ? ["channels", "denseWidth"] : ["hidden"]
        unused.formUnion(Self.kindSpecificKeys.subtracting(model.makeLatent(bodyWidth: 1).configurationKeys))
        for key in unused { fields[key] = nil }
        let data = try JSONSerialization.data(withJSONObject: fields, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// The ``ModelConfig`` fields only some kinds read: the union of what every kind's latent names in its
    /// `configurationKeys`, each asked with a hidden layer (so the contractive penalty names its noise step too).
    static let kindSpecificKeys: Set<String> = ModelKind.allCases.reduce(into: []) { keys, kind in
        var config = ModelConfig(kind: kind, inputShape: [1])
        config.hidden = [1]
        keys.formUnion(config.makeLatent(bodyWidth: 1).configurationKeys)
    }

    /// The curves of the top panel of ``lossPlot(_:)``: loss, reconstruction and validation loss. Where the loss
    /// equals the reconstruction in every epoch (a plain autoencoder), one curve "loss (= reconstruction)" stands
    /// for both instead of one hiding the other.
    public static func lossSeries(_ metrics: MetricsTable) -> [LinePlot.Series] {
        let epochs = metrics.series("epoch").enumerated().map { $0.element ?? Double($0.offset + 1) }
        func series(_ column: String, _ name: String) -> LinePlot.Series? {
            guard metrics.has(column) else { return nil }
            return LinePlot.Series(name: name, x: epochs, y: metrics.series(column).map { $0 ?? .nan }, markers: epochs.count < 30)
        }
        let same = metrics.has("loss") && metrics.has("reconstruction") && metrics.series("loss") == metrics.series("reconstruction")
        let losses = same ? [series("loss", "loss (= reconstruction)")] : [series("loss", "loss"), series("reconstruction", "reconstruction")]
        return (losses + [series("val_loss", "validation loss")]).compactMap { $0 }
    }

    /// The loss curves of `metrics`: one panel of loss, reconstruction and validation loss (``lossSeries(_:)``),
    /// and below it a panel of KL and β (VAEs) or penalty and perplexity (other kinds that have them), stacked
    /// into one picture.
    public static func lossPlot(_ metrics: MetricsTable) -> Raster {
        let epochs = metrics.series("epoch").enumerated().map { $0.element ?? Double($0.offset + 1) }
        func series(_ column: String, _ name: String) -> LinePlot.Series? {
            guard metrics.has(column) else { return nil }
            return LinePlot.Series(name: name, x: epochs, y: metrics.series(column).map { $0 ?? .nan }, markers: epochs.count < 30)
        }
        let top = LinePlot(title: "Loss per sample", xLabel: "epoch", yLabel: "nats", series: lossSeries(metrics),
                           width: 720, height: 400)
        let lower = [series("kl", "KL"), series("beta", "β"), series("penalty", "penalty"),
                     series("perplexity", "perplexity")].compactMap { $0 }
        guard !lower.isEmpty else { return top.render() }
        let bottom = LinePlot(title: metrics.has("kl") ? "KL term and its weight" : "Penalty terms", xLabel: "epoch",
                              series: lower, width: 720, height: 320)
        return stacked([top.render(), bottom.render()])
    }

    /// The codes as a scatter plot coloured by label (all one class without labels): the two coordinates for a
    /// 2-D latent, z against 0 for a 1-D one, otherwise the projections on the first two principal components.
    public static func latentPlot(_ codes: LatentCodes, classNames: [Int: String] = [:]) -> Raster {
        let labels = codes.labels.map { $0.map(Int.init) } ?? [Int](repeating: 0, count: codes.count)
        var x: [Double], y: [Double], xLabel: String, yLabel: String
        switch codes.dimension {
        case 1:
            x = codes.values.map(Double.init)
            y = [Double](repeating: 0, count: codes.count)
            (xLabel, yLabel) = ("z0", "")
        case 2:
            x = stride(from: 0, to: codes.values.count, by: 2).map { Double(codes.values[$0]) }
            y = stride(from: 1, to: codes.values.count, by: 2).map { Double(codes.values[$0]) }
            (xLabel, yLabel) = ("z0", "z1")
        default:
            let pca = PrincipalComponents(points: codes.values, dimension: codes.dimension, count: 2)
            let projected = pca.project(codes.values)
            x = projected.map { $0[0] }
            y = projected.map { $0.count > 1 ? $0[1] : 0 }
            func share(_ k: Int) -> String {
                guard k < pca.variances.count, pca.totalVariance > 0 else { return "" }
                return String(format: " (%.0f%% of variance)", 100 * pca.variances[k] / pca.totalVariance)
            }
            (xLabel, yLabel) = ("PC1" + share(0), "PC2" + share(1))
        }
        return ScatterPlot(title: "Latent codes of the test data", xLabel: xLabel, yLabel: yLabel, x: x, y: y,
                           labels: labels, classNames: codes.labels == nil ? [0: "all"] : classNames,
                           pointRadius: codes.count > 2000 ? 2 : 3).render()
    }

    /// Legend names of a run's labels (the shapes' names for `shapes` data, else the numbers).
    static func classNames(_ config: RunConfig) -> [Int: String] {
        guard config.data.source == "shapes" || config.data.source.hasPrefix("shapes:") else { return [:] }
        return Dictionary(uniqueKeysWithValues: ShapesDataset.shapeNames.enumerated().map { ($0.offset, $0.element) })
    }

    private static func summary(_ config: RunConfig, metrics: MetricsTable, test: Dataset) -> String {
        let model = config.model
        return "\(model.kind.rawValue) (\(model.architecture.rawValue), latent \(model.latentDim), \(model.likelihood.rawValue) likelihood) trained for \(metrics.rows.count) epoch\(metrics.rows.count == 1 ? "" : "s") on \(config.data.source) with \(config.device); test metrics on \(test.count) held-out samples."
    }

    private static func finalMetrics(_ metrics: MetricsTable, evaluation: EvaluationResult) -> [HTMLReport.Metric] {
        let estimate = evaluation.latentDraws.map { " (sampled negative ELBO, \($0) draw\($0 == 1 ? "" : "s") of z per sample)" } ?? ""
        var rows: [HTMLReport.Metric] = [
            HTMLReport.Metric("test loss" + estimate, evaluation.loss),
            HTMLReport.Metric("test reconstruction", evaluation.reconstruction),
        ]
        if let kl = evaluation.kl { rows.append(HTMLReport.Metric("test KL", kl)) }
        if let penalty = evaluation.penalty { rows.append(HTMLReport.Metric("test penalty", penalty)) }
        for (column, value) in metrics.final {
            let integer = ["epoch", "step", "active_units", "dead_units"].contains(column)
            rows.append(integer ? HTMLReport.Metric("final \(column)", Int(value)) : HTMLReport.Metric("final \(column)", value))
        }
        return rows
    }

    /// The rasters one above the other, left-aligned on white.
    private static func stacked(_ rasters: [Raster]) -> Raster {
        var canvas = Raster(width: rasters.map(\.width).max() ?? 1, height: max(1, rasters.map(\.height).reduce(0, +)))
        var top = 0
        for raster in rasters {
            for y in 0..<raster.height {
                for x in 0..<raster.width { canvas[x, top + y] = raster[x, y] }
            }
            top += raster.height
        }
        return canvas
    }
}
