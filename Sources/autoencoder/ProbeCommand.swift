import ArgumentParser
import AutoencoderKit
import Foundation

/// `autoencoder probe`: how linearly separable the classes are in a run's latent codes.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Linear probe: a softmax classifier on the codes (μ for VAEs) of N labelled training samples.",
        discussion: """
        The same classifier (multinomial logistic regression, L2, standardized features) is also trained on the \
        raw inputs and on PCA features of the latent size, fitted on the same N samples; all three are scored on \
        the test split (a file other than the run's own data is split 80/20 by the run's seed).
        """)

    @Option(name: .customLong("run"), help: "The run folder written by `autoencoder train`.") var runPath: String
    @Option(help: "Labelled data (default: the run's own).") var data: String?
    @Option(help: "Labelled training samples the classifiers see.") var labels: Int = 100
    @Option(help: "L2 weight λ of the classifier.") var l2: Double = 1e-3
    @Flag(help: "Print one JSON line.") var json = false
    @OptionGroup var deviceOptions: DeviceOptions

    func validate() throws {
        guard labels > 1 else { throw ValidationError("--labels must be at least 2") }
        guard l2 >= 0 else { throw ValidationError("--l2 must be ≥ 0") }
    }

    func run() throws {
        let device = try deviceOptions.open()
        let directory = RunDirectory(url: URL(fileURLWithPath: runPath))
        let config = try directory.readConfig()
        var train: Dataset, test: Dataset
        if let data, data != config.data.source {
            (train, test) = try PreparedData.load(source: data, for: config).split(seed: config.training.seed, fraction: 0.8)
        } else {
            train = try PreparedData.load(source: nil, for: config, split: .train)
            test = try PreparedData.load(source: nil, for: config, split: .test)
        }
        guard let trainLabels = train.labels, let testLabels = test.labels, test.count > 0 else {
            throw DataError(file: data ?? config.data.source, .invalidArgument("the probe needs labelled training and test samples"))
        }
        guard labels <= train.count else {
            throw ConfigError.invalid("--labels \(labels) exceeds the \(train.count) training samples")
        }
        var generator = SplitMix64(seed: config.training.seed ^ 0x9B0B)
        var order = Array(0..<train.count)
        order.shuffle(using: &generator)
        train = train.subset(Array(order.prefix(labels)))
        let labelled = order.prefix(labels).map { trainLabels[$0] }

        let (model, _) = try directory.loadModel(device: device, batchSize: min(256, train.count, test.count), config: config)
        let l = model.latentDim, d = train.dimension
        func doubles(_ values: [Float]) -> [Double] { values.map(Double.init) }
        let codeTrain = doubles(try LatentAnalysis.codes(model: model, data: train))
        let codeTest = doubles(try LatentAnalysis.codes(model: model, data: test))
        let rawTrain = doubles(train.features), rawTest = doubles(test.features)
        let pca = PrincipalComponents(rows: rawTrain, dimension: d, count: min(l, d))
        let pcaTrain = pca.transform(rawTrain), pcaTest = pca.transform(rawTest)

        let latent = SoftmaxClassifier(features: codeTrain, labels: labelled, dimension: l, l2: l2)
            .accuracy(codeTest, labels: testLabels)
        let raw = SoftmaxClassifier(features: rawTrain, labels: labelled, dimension: d, l2: l2)
            .accuracy(rawTest, labels: testLabels)
        let principal = SoftmaxClassifier(features: pcaTrain, labels: labelled, dimension: min(l, d), l2: l2)
            .accuracy(pcaTest, labels: testLabels)
        if json {
            try Terminal.printJSON(["accuracy": latent, "raw_accuracy": raw, "pca_accuracy": principal, "labels": labels,
                                    "test_samples": test.count, "latent_dim": l, "pca_components": min(l, d)])
        } else {
            print("linear probe on \(labels) labelled samples, tested on \(test.count):")
            print(String(format: "  latent codes (%d dims)  %.4f", l, latent))
            print(String(format: "  raw inputs (%d dims)    %.4f", d, raw))
            print(String(format: "  PCA (%d components)     %.4f", min(l, d), principal))
        }
    }
}
