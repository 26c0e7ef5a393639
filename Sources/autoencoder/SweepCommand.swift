import ArgumentParser
import AutoencoderKit
import Foundation

/// `autoencoder sweep`: one run per latent size, and where the reconstruction stops improving.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Train one model per latent size and plot validation reconstruction against size.",
        discussion: """
        Takes every `train` option but --latent-dim. Writes DIR/latent-K/ (a run folder per size), DIR/sweep.csv \
        and DIR/sweep.png (log x axis), and names the plateau: the smallest size whose validation reconstruction \
        is within the tolerance (default 2%) of the best size's. Without a validation split the test split is used.
        """)

    @OptionGroup var options: TrainOptions
    @Option(help: "Latent sizes, comma-separated. (default: 2,4,8,16,32)", transform: TrainOptions.widths(of: "--latent-dims"))
    var latentDims: [Int] = [2, 4, 8, 16, 32]
    /// Not a sweep option: given, it is refused with a pointer to --latent-dims (and it is not in --help).
    @Option(help: .hidden) var latentDim: Int?
    @Option(help: "Plateau tolerance as a fraction of the best reconstruction.") var tolerance: Double = 0.02
    @Option(help: "Sweep folder (default runs/sweep-MODEL-DATA).") var out: String?
    @Flag(help: "Print one JSON line.") var json = false
    @OptionGroup var deviceOptions: DeviceOptions

    func validate() throws {
        if latentDim != nil { throw ValidationError("sweep takes --latent-dims, not --latent-dim") }
        if latentDims.isEmpty { throw ValidationError("--latent-dims needs at least one size") }
        guard tolerance >= 0, tolerance.isFinite else { throw ValidationError("--tolerance must be ≥ 0") }
    }

    func run() throws {
        try TrainingRanks.run { ranks in
            if ranks.isParallel { throw ParallelRunError.unsupported("sweep", ranks: ranks.communicator.size) }
            try sweep()
        }
    }

    private func sweep() throws {
        let sizes = latentDims
        let device = try deviceOptions.open()
        let name = "sweep-\(options.modelKind.rawValue)-\(URL(fileURLWithPath: options.data).deletingPathExtension().lastPathComponent)"
        let folder = out.map { URL(fileURLWithPath: $0) } ?? RunDirectory.unused(base: name, in: URL(fileURLWithPath: "runs")).url
        var losses: [Double] = []
        for size in sizes {
            let (directory, config, data) = try options.newRun(
                device: device, out: folder.appendingPathComponent("latent-\(size)").path, latentDim: size)
            let (trainer, model) = try RunTraining(directory: directory, config: config, data: data, quiet: true)
                .run(device: device, resume: false)
            try EnsembleTraining(directory: directory, config: config, data: data).run(device: device, quiet: true)
            guard let loss = try trainer.history.last?.validationReconstruction
                ?? data.evaluateTest(model: model, seed: config.training.seed)?.reconstruction else {
                throw ValidationError("sweep needs a validation or a test split to compare latent sizes (--validation or --test-fraction above 0)")
            }
            losses.append(loss)
            Terminal.note(String(format: "latent %d: validation reconstruction %.4f", size, loss))
        }
        let plateau = LatentAnalysis.plateau(sizes: sizes, losses: losses, tolerance: tolerance)
        let rows = ["latent_dim,val_reconstruction"] + zip(sizes, losses).map { "\($0),\(String(format: "%.6g", $1))" }
        try AtomicFile.write(Data((rows.joined(separator: "\n") + "\n").utf8), to: folder.appendingPathComponent("sweep.csv"))
        let plot = LinePlot(title: "validation reconstruction (plateau at \(plateau))", xLabel: "latent size",
                            yLabel: "reconstruction", series: [
                                LinePlot.Series(name: options.modelKind.rawValue, x: sizes.map(Double.init), y: losses, markers: true),
                            ], logX: true)
        try plot.write(to: folder.appendingPathComponent("sweep.png"))
        if json {
            try Terminal.printJSON(["latent_dims": sizes, "val_reconstruction": losses, "plateau": plateau,
                                    "tolerance": tolerance, "out": folder.path])
        } else {
            for (size, loss) in zip(sizes, losses) { print(String(format: "latent %4d  %.4f", size, loss)) }
            print("plateau: latent size \(plateau) (within \(tolerance * 100)% of the best)")
            print("wrote \(folder.path)/: latent-*/, sweep.csv, sweep.png")
        }
    }
}
