@testable import Autoencoders
import Compute
import Foundation
import Layers
import Testing
import TestSupport

/// The sparse-autoencoder recipe of ``SAEOptions``: the auxiliary loss against a host reference, the tied start,
/// the decoder gradient's projection, the export to sparsify and SAELens, and configurations written before the
/// recipe existed.
@Suite struct SAERecipeTests {
    static let n = 6, l = 10, k = 2, batch = 5

    /// A one-layer top-2 SAE on 6 features; `auxiliary` nil turns AuxK off.
    static func model(auxiliary: AuxKOptions?, device: any Device) throws -> Autoencoder {
        var config = ModelConfig(kind: .sparse, inputShape: [n])
        config.hidden = []
        config.latentDim = l
        config.likelihood = .gaussian
        config.sparsity = .topK(k: k)
        var options = SAEOptions()
        options.auxK = auxiliary
        config.sae = options
        return try Autoencoder(config: config, device: device, batchSize: batch, seed: 5)
    }

    /// The k largest of `values` at `allowed` positions (ties to the lower index), others 0.
    static func topK(_ values: [Float], k: Int, allowed: (Int) -> Bool) -> [Float] {
        let chosen = values.indices.filter(allowed).sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }.prefix(k)
        var out = [Float](repeating: 0, count: values.count)
        for j in chosen { out[j] = values[j] }
        return out
    }

    /// With every latent that did not fire in the batch dead (dead after 1 sample), the gradient AuxK adds to W_d,
    /// W_e and b_e, and its penalty α(‖ê − e‖² − ‖e‖²), match a host computation of α·mean‖W_d z_aux − e‖² with
    /// e = x − x̂ held fixed and z_aux the 3 largest pre-activations (negative ones too) of dead latents.
    @Test(arguments: TestDevices.selectors)
    func auxiliaryGradientMatchesAHostReference(selector: String) throws {
        let device = try TestDevices.device(selector)
        var options = AuxKOptions()
        options.k = 3
        options.coefficient = 0.5
        options.deadAfter = 1
        let with = try Self.model(auxiliary: options, device: device)
        let without = try Self.model(auxiliary: nil, device: device)
        var rng = TestRandom(seed: 4)
        let xs = rng.array(Self.batch * Self.n, -1, 2)
        let x = try device.makeBuffer(xs)
        for model in [with, without] {
            model.store.zeroGradients()
            model.trainStep(x.whole, context: StepContext(training: true), kl: .init(weight: 0))
        }
        func read(_ model: Autoencoder, _ name: String, gradient: Bool) throws -> [Float] {
            device.read(gradient ? try model.store.gradient(named: name) : try model.store.value(named: name))
        }
        let we = try read(with, "encoder.0.weight", gradient: false), be = try read(with, "encoder.0.bias", gradient: false)
        let wd = try read(with, "decoder.0.weight", gradient: false), bd = try read(with, "decoder.0.bias", gradient: false)
        let n = Self.n, l = Self.l, b = Self.batch, alpha = Float(options.coefficient)
        var h = [[Float]](), z = [[Float]]()
        for r in 0..<b {
            let row = (0..<l).map { j in (0..<n).reduce(be[j]) { $0 + we[j * n + $1] * xs[r * n + $1] } }
            h.append(row)
            z.append(Self.topK(row, k: Self.k, allowed: { _ in true }).map { max($0, 0) })
        }
        let fired = Set((0..<l).filter { j in z.contains { $0[j] != 0 } })
        #expect(fired.count < l, "the test needs dead latents")
        var dWd = [Float](repeating: 0, count: n * l), dWe = [Float](repeating: 0, count: l * n)
        var dbe = [Float](repeating: 0, count: l), penalty = [Float](repeating: 0, count: b)
        for r in 0..<b {
            let aux = Self.topK(h[r], k: options.k!, allowed: { !fired.contains($0) })
            var residual = [Float](repeating: 0, count: n)  // (2α/b)(ê − e)
            for i in 0..<n {
                let xHat = (0..<l).reduce(bd[i]) { $0 + wd[i * l + $1] * z[r][$1] }
                let e = xs[r * n + i] - xHat
                let eHat = (0..<l).reduce(0) { $0 + wd[i * l + $1] * aux[$1] }
                penalty[r] += alpha * ((eHat - e) * (eHat - e) - e * e)
                residual[i] = 2 * alpha / Float(b) * (eHat - e)
            }
            for j in 0..<l where aux[j] != 0 {
                let dz = (0..<n).reduce(0) { $0 + residual[$1] * wd[$1 * l + j] }
                dbe[j] += dz
                for i in 0..<n {
                    dWd[i * l + j] += residual[i] * aux[j]
                    dWe[j * n + i] += dz * xs[r * n + i]
                }
            }
        }
        #expect(dWd.contains { $0 != 0 }, "the auxiliary code is empty")
        for (name, expected) in [("decoder.0.weight", dWd), ("encoder.0.weight", dWe), ("encoder.0.bias", dbe)] {
            let added = zip(try read(with, name, gradient: true), try read(without, name, gradient: true)).map { $0 - $1 }
            for (index, (got, want)) in zip(added, expected).enumerated() {
                #expect(abs(got - want) <= 1e-4 * (1 + abs(want)), "\(name)[\(index)]: \(got) vs \(want)")
            }
        }
        let reported = device.read(with.penaltyPerSample)
        for r in 0..<b { #expect(abs(reported[r] - penalty[r]) <= 1e-4 * (1 + abs(penalty[r])), "penalty of sample \(r)") }
        // an evaluation has no auxiliary term
        with.evaluateBatch(x.whole, context: StepContext(training: false))
        #expect(device.read(with.penaltyPerSample).allSatisfy { $0 == 0 })
    }

    /// On a device with ``SparseRowPrimitives`` an SAE's decoder reads the code's entries and its projection's
    /// gradient is compacted (AuxK's entries included): the step's gradients and loss terms equal those of the
    /// dense products.
    @Test func sparseRowProductsGiveTheDenseStep() throws {
        let device = try TestDevices.device("cpu")
        var options = AuxKOptions()
        options.k = 3
        options.deadAfter = 1
        let sparse = try Self.model(auxiliary: options, device: device), dense = try Self.model(auxiliary: options, device: device)
        let code = try #require(dense.latent as? SparseCode), decoder = try #require(dense.decoder.layers.first as? Linear)
        #expect(decoder.sparseRowCapacities?.input == Self.k, "the CPU backend offers sparse rows")
        #expect(code.projection.sparseRowCapacities?.outputGradient == Self.k + 3)
        // the same model with dense products
        #expect(try !decoder.useSparseRows(input: nil, outputGradient: nil))
        #expect(try !code.projection.useSparseRows(input: nil, outputGradient: nil))
        #expect(decoder.sparseRowCapacities == nil && code.projection.sparseRowCapacities == nil)
        var rng = TestRandom(seed: 6)
        let x = try device.makeBuffer(rng.array(Self.batch * Self.n, -1, 2))
        for model in [sparse, dense] {
            model.store.zeroGradients()
            model.trainStep(x.whole, context: StepContext(training: true), kl: .init(weight: 0))
        }
        #expect(mismatch(device.read(sparse.store.gradients), device.read(dense.store.gradients).map(Double.init)) == nil)
        #expect(mismatch(device.read(sparse.termsPerSample.whole), device.read(dense.termsPerSample.whole).map(Double.init)) == nil)
        #expect(device.read(sparse.store.gradients).contains { $0 != 0 })
    }

    /// The trainer's tied start (W_d = W_eᵀ with unit columns, b_d the data mean, b_e = −W_e b_d), and a step
    /// whose decoder gradient has no component along any column: one Adam step then leaves every column at unit
    /// norm before the renormalization (within the step's second-order change).
    @Test(arguments: TestDevices.selectors)
    func tiedStartAndProjectedDecoderGradient(selector: String) throws {
        let device = try TestDevices.device(selector)
        let data = AnalysisTests.plantedActivations(count: 256)
        let (config, _) = AnalysisTests.plantedSAE(latentDim: 32, epochs: 1)
        var training = TrainingConfig()
        training.batchSize = 64
        training.validationFraction = 0
        let model = try Autoencoder(config: config, device: device, batchSize: 64, seed: 3)
        let we0 = device.read(try model.store.value(named: "encoder.0.weight"))
        _ = try Trainer(model: model, config: training, training: data, validation: nil)
        let n = 16, l = 32
        let wd = device.read(try model.store.value(named: "decoder.0.weight"))
        let bd = device.read(try model.store.value(named: "decoder.0.bias"))
        let be = device.read(try model.store.value(named: "encoder.0.bias"))
        let mean = (0..<n).map { i in (0..<256).reduce(0) { $0 + Double(data.features[$1 * n + i]) } / 256 }
        for i in 0..<n { #expect(abs(Double(bd[i]) - mean[i]) < 1e-5, "b_d[\(i)] is not the data mean") }
        for j in 0..<l {
            let norm = (0..<n).reduce(Float(0)) { $0 + we0[j * n + $1] * we0[j * n + $1] }.squareRoot()
            for i in 0..<n { #expect(abs(wd[i * l + j] - we0[j * n + i] / norm) < 1e-5, "W_d[\(i), \(j)]") }
            let centred = (0..<n).reduce(Float(0)) { $0 + we0[j * n + $1] * bd[$1] }
            #expect(abs(be[j] + centred) < 1e-5, "b_e[\(j)]")
        }
        // one step: the projected gradient is orthogonal to each column
        let batchRows = try device.makeBuffer(Array(data.features.prefix(64 * n)))
        model.store.zeroGradients()
        model.trainStep(batchRows.whole, context: StepContext(training: true), kl: .init(weight: 0))
        model.latent.beforeUpdate()
        let g = device.read(try model.store.gradient(named: "decoder.0.weight"))
        var largest: Float = 0
        for j in 0..<l {
            let dot = (0..<n).reduce(Float(0)) { $0 + g[$1 * l + j] * wd[$1 * l + j] }
            let norm = (0..<n).reduce(Float(0)) { $0 + g[$1 * l + j] * g[$1 * l + j] }.squareRoot()
            largest = max(largest, norm)
            #expect(abs(dot) <= 1e-5 * (1 + norm), "column \(j): g·w = \(dot)")
        }
        #expect(largest > 0, "the decoder got no gradient")
    }

    /// On the planted activations (24 atoms, so most of 64 latents have little to do), the recipe leaves fewer
    /// latents dead on held-out rows than the settings before it (top-k over raw pre-activations, an untied start,
    /// no projection, no AuxK, no resampling).
    @Test func recipeLeavesFewerLatentsDeadThanTheOldSettings() throws {
        let device = try TestDevices.device("cpu")
        let data = AnalysisTests.plantedActivations(count: 2048)
        let (train, validation) = try data.split(seed: 1, fraction: 0.8)
        func deadOnHeldOut(_ options: SAEOptions) throws -> Int {
            var (config, training) = AnalysisTests.plantedSAE(latentDim: 64, epochs: 10)
            config.sae = options
            training.learningRate = SAEOptions.learningRate(latentDim: 64, batchSize: 64)
            let model = try Autoencoder(config: config, device: device, batchSize: 64, seed: 3)
            let trainer = try Trainer(model: model, config: training, training: train, validation: validation)
            try trainer.run()
            return try #require(trainer.history.last?.deadUnits)
        }
        var old = SAEOptions()
        old.rectify = false
        old.tiedInitialization = false
        old.projectDecoderGradient = false
        old.auxK = nil
        let before = try deadOnHeldOut(old), after = try deadOnHeldOut(SAEOptions())
        #expect(after < before, "dead on held-out rows: \(after) of 64 with the recipe, \(before) without")
    }

    /// A configuration written before the recipe (only `normalizeDecoder` and `resampleDeadLatents`) reads as it
    /// then trained: no ReLU before top-k, no tied start, no projection, no AuxK.
    @Test func configurationsWrittenBeforeTheRecipeReadAsTheyTrained() throws {
        let old = try JSONDecoder().decode(SAEOptions.self, from: Data(#"{"normalizeDecoder":true,"resampleDeadLatents":true}"#.utf8))
        #expect(old.normalizeDecoder && old.resampleDeadLatents)
        #expect(!old.rectify && !old.tiedInitialization && !old.projectDecoderGradient && old.auxK == nil)
        let current = SAEOptions()
        #expect(try JSONDecoder().decode(SAEOptions.self, from: JSONEncoder().encode(current)) == current)
    }

    /// Both exports compute the model's own reconstructions by each tool's formula: sparsify encodes x − b_dec
    /// with `encoder.weight`/`encoder.bias`, SAELens x·W_enc + b_enc; both keep the top k of the ReLU and decode
    /// z·W_dec + b_dec.
    @Test(arguments: SAEExportFormat.allCases)
    func exportsReproduceTheModelsReconstructions(format: SAEExportFormat) throws {
        let device = try TestDevices.device("cpu")
        let data = AnalysisTests.plantedActivations(count: 256)
        let (config, training) = AnalysisTests.plantedSAE(latentDim: 32, epochs: 2)
        let model = try Autoencoder(config: config, device: device, batchSize: 64, seed: 3)
        try Trainer(model: model, config: training, training: data, validation: nil).run()
        let folder = try TemporaryDirectory()
        let url = folder.url.appendingPathComponent("export")
        try model.exportSAE(format: format, to: url)
        let weightsFile = format == .sparsify ? "sae.safetensors" : "sae_weights.safetensors"
        let tensors = try SafeTensorsFormat.read(url.appendingPathComponent(weightsFile)).tensors
        let settings = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url.appendingPathComponent("cfg.json"))) as? [String: Any])
        #expect(settings["k"] as? Int == 4)
        func floats(_ name: String) throws -> [Float] {
            guard case .float32(let v)? = tensors[name]?.elements else { throw ConfigError.invalid("no \(name)") }
            return v
        }
        let n = 16, l = 32, rows = 64
        let xs = Array(data.features.prefix(rows * n))
        let expected = device.read(model.reconstruct(try device.makeBuffer(xs).whole))
        let wDec = try floats("W_dec"), bDec = try floats("b_dec")
        for r in 0..<rows {
            let x = Array(xs[(r * n)..<((r + 1) * n)])
            let pre: [Float]
            switch format {
            case .sparsify:
                let w = try floats("encoder.weight"), b = try floats("encoder.bias")
                pre = (0..<l).map { j in (0..<n).reduce(b[j]) { $0 + w[j * n + $1] * (x[$1] - bDec[$1]) } }
            case .saelens:
                let w = try floats("W_enc"), b = try floats("b_enc")
                pre = (0..<l).map { j in (0..<n).reduce(b[j]) { $0 + x[$1] * w[$1 * l + j] } }
            }
            let z = Self.topK(pre.map { max($0, 0) }, k: 4, allowed: { _ in true })
            for i in 0..<n {
                let y = (0..<l).reduce(bDec[i]) { $0 + z[$1] * wDec[$1 * n + i] }
                #expect(abs(y - expected[r * n + i]) < 1e-4 * (1 + abs(y)), "row \(r), feature \(i)")
            }
        }
        // a second export replaces the first; a folder that is not an export is left alone
        try model.exportSAE(format: format, to: url)
        let other = folder.url.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        #expect(throws: ConfigError.self) { try model.exportSAE(format: format, to: other) }
    }
}
