import Autoencoders
import Foundation
import Testing
import TestSupport

/// The training pictures and the HTML report of a run, and (where `chromium` is installed) that a browser renders
/// the page.
@Suite struct RunReportTests {
    /// Trains a tiny model (a VAE unless `kind` says otherwise) for `epochs` epochs on a few generated shapes and
    /// writes a complete run folder.
    static func makeRun(in folder: TemporaryDirectory, epochs: Int = 2,
                        kind: ModelKind = .vae) throws -> (RunDirectory, Autoencoder, RunConfig) {
        let source = "shapes:160:2x4x4x4"
        let prepared = try PreparedData.load(source: source, csv: CSVOptions(), normalization: nil, testFraction: 0.25,
                                             validationFraction: 0.1, seed: 3)
        var model = ModelConfig(kind: kind, inputShape: prepared.train.shape)
        model.hidden = [32]
        model.latentDim = 3
        var training = TrainingConfig()
        training.epochs = epochs
        training.batchSize = 16
        training.seed = 3
        let config = RunConfig(model: model, training: training, data: prepared.description, device: "cpu")
        let directory = RunDirectory(url: folder.file("run"))
        try directory.create()
        try directory.write(config: config)
        let autoencoder = try Autoencoder(config: model, device: try TestDevices.device("cpu"), batchSize: 16, seed: 3)
        let trainer = try Trainer(model: autoencoder, config: training, training: prepared.train, validation: prepared.validation)
        try trainer.run()
        try directory.write(metrics: trainer.history)
        try directory.write(model: autoencoder)
        return (directory, autoencoder, config)
    }

    /// The report's configuration shows the settings the model's kind uses, not the defaults of other kinds.
    @Test func theConfigurationShowsOnlyTheKindsSettings() throws {
        func keys(_ config: ModelConfig) throws -> Set<String> {
            let text = try RunReport.configurationText(config)
            return Set((try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]).keys)
        }
        let vae = try keys(ModelConfig(kind: .vae, inputShape: [64]))
        #expect(vae.isSuperset(of: ["kind", "hidden", "latentDim", "likelihood", "beta"]))
        #expect(vae.isDisjoint(with: ["vq", "corruption", "sparsity", "contractiveWeight", "contractiveNoise", "channels", "denseWidth"]), "\(vae)")
        let vq = try keys(ModelConfig(kind: .vqVAE, inputShape: [64]))
        #expect(vq.contains("vq") && vq.isDisjoint(with: ["beta", "corruption", "sparsity"]), "\(vq)")
        let denoising = try keys(ModelConfig(kind: .denoising, architecture: .conv, inputShape: [1, 8, 8]))
        #expect(denoising.isSuperset(of: ["corruption", "channels", "denseWidth"]) && !denoising.contains("hidden"), "\(denoising)")
        let sparse = try keys(ModelConfig(kind: .sparse, inputShape: [64]))
        #expect(sparse.contains("sparsity") && !sparse.contains("vq"), "\(sparse)")
        var contractive = ModelConfig(kind: .contractive, inputShape: [64])
        contractive.hidden = []
        #expect(try keys(contractive).contains("contractiveWeight") && !(try keys(contractive)).contains("contractiveNoise"))
    }

    /// A plain autoencoder's loss is its reconstruction: one curve says so instead of one hiding under the other.
    @Test func anAutoencodersLossCurveIsNotHidden() throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let (ae, _, _) = try Self.makeRun(in: folder, kind: .ae)
        #expect(RunReport.lossSeries(try ae.readMetrics()).map(\.name) == ["loss (= reconstruction)", "validation loss"])
        let other = try TemporaryDirectory()
        defer { other.remove() }
        let (vae, _, _) = try Self.makeRun(in: other)
        #expect(RunReport.lossSeries(try vae.readMetrics()).map(\.name) == ["loss", "reconstruction", "validation loss"])
    }

    @Test func metricsReadBackAsWritten() throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let directory = RunDirectory(url: folder.url)
        var first = EpochMetrics(epoch: 1, step: 10, loss: 5, reconstruction: 4, learningRate: 1e-3, samplesPerSecond: 100, seconds: 1)
        first.kl = 1
        var second = first
        second.epoch = 2
        second.loss = 3.5
        try directory.write(metrics: [first, second])
        let table = try directory.readMetrics()
        #expect(table.rows.count == 2 && table.columns == EpochMetrics.csvHeader)
        #expect(table.series("loss") == [5, 3.5] && table.series("perplexity") == [nil, nil])
        #expect(table.has("kl") && !table.has("penalty") && !table.has("no-such-column"))
        #expect(table.final.first! == ("epoch", 2) && table.final.contains { $0 == ("kl", 1) })
        try Data("epoch,loss\n1,x\n".utf8).write(to: directory.metricsURL)
        #expect(throws: DataError.self) { try directory.readMetrics() }
    }

    @Test func theReportHasEveryPictureAndTheMetrics() throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let (directory, model, config) = try Self.makeRun(in: folder)
        let files = try RunReport.write(directory: directory, model: model, config: config)
        #expect(files.map(\.lastPathComponent) == ["loss.png", "latent.png", "report.html"])
        let loss = try PNGTestDecoder.decode(Array(try Data(contentsOf: files[0])))
        let latent = try PNGTestDecoder.decode(Array(try Data(contentsOf: files[1])))
        #expect(loss.width == 720 && loss.height == 400 + 320, "loss and KL panels stacked")
        #expect(latent.width >= 720 && latent.height >= 560)
        // the three shapes get the palette's first three colours in the scatter plot
        let colours = Set(stride(from: 0, to: latent.pixels.count, by: 3).map {
            RGBColor(red: latent.pixels[$0], green: latent.pixels[$0 + 1], blue: latent.pixels[$0 + 2])
        })
        for k in 0..<3 { #expect(colours.contains(RGBColor.palette(k)), "legend colour \(k)") }

        let html = try String(contentsOf: files[2], encoding: .utf8)
        #expect(html.components(separatedBy: "data:image/png;base64,").count - 1 == 4,
                "loss, latent, reconstructions and samples are embedded")
        for text in ["test loss", "final kl", "Reconstructions", "Samples", "N(0, I)", "latentDim&quot; : 3"] {
            #expect(html.contains(text), "report lacks \(text)")
        }
        #expect(!html.contains("src=\"http") && !html.contains("src=\"file"), "self-contained")
    }

    /// Renders the page in headless Chromium when it is installed (CI installs Debian's `chromium`) and checks the
    /// screenshot shows content: many distinct colours, not a blank or error page.
    @Test func chromiumRendersTheReport() throws {
        guard let chromium = Self.executable(named: "chromium") else {
            #expect(ProcessInfo.processInfo.environment["CI"] != "true", "CI must install chromium to check the report renders")
            return
        }
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let (directory, model, config) = try Self.makeRun(in: folder, epochs: 1)
        let page = try RunReport.write(directory: directory, model: model, config: config)[2]
        let screenshot = folder.file("screenshot.png")
        let process = Process()
        process.executableURL = chromium
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--screenshot=\(screenshot.path)",
                             "--window-size=1200,2000", page.absoluteString]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let image = try PNGTestDecoder.decode(Array(try Data(contentsOf: screenshot)))
        #expect(image.width == 1200 && image.height == 2000)
        var distinct = Set<UInt32>()
        for start in stride(from: 0, to: image.pixels.count, by: image.channels) {
            distinct.insert(UInt32(image.pixels[start]) << 16 | UInt32(image.pixels[start + 1]) << 8 | UInt32(image.pixels[start + 2]))
        }
        #expect(distinct.count > 200, "a rendered report has text, plots and images; got \(distinct.count) colours")
    }

    /// The first `name` on PATH that can be run.
    static func executable(named name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }
}
