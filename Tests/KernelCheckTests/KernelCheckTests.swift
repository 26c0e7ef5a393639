@testable import Autoencoders
@testable import Compute
import Foundation
import Kernels
import Layers
import Testing
import TestSupport

/// Every kernel, at small shapes that reach its edges, with each tiling preset a GPU uses, on the first OpenCL
/// device against the CPU backend; and one training step of every model kind × architecture. In `.ci/run`'s
/// Oclgrind step that device is the simulator, with data-race, bounds and API checks on, and any report fails.
/// Serialized: Oclgrind runs one device at a time.
@Suite(.serialized) struct KernelCheckTests {
    static let openCL = TestDevices.selectors.contains("opencl:0")

    @Test(.enabled(if: openCL), arguments: KernelCheck.presets)
    func everyKernelMatchesTheCPUBackend(preset: String) throws {
        let check = try KernelCheck(preset: preset)
        if SimulatorLog.required {
            try #require(check.isSimulator, "AUTOENCODERKIT_OCLGRIND=1, but opencl:0 is \(check.gpu.info.name)")
            try #require(SimulatorLog.shared != nil, "AUTOENCODERKIT_OCLGRIND=1 needs OCLGRIND_LOG")
        }
        check.expectNoReports("opening the device")
        try check.everyFamily()
        try check.oneTrainingStepOfEveryModel()
        let missed = check.gpu.builtKernels.subtracting(check.gpu.launchedKernels)
        #expect(missed.isEmpty, "\(preset): kernels never launched: \(missed.sorted())")
    }

    /// The check can fail: `gemm_tiled` with the barrier that ends each K slice removed (the next slice's loads
    /// race with the last one's reads), and with its bounds check on A's rows removed (a remainder tile reads past
    /// the end of A), each reported by Oclgrind. Runs where the simulator's log is read.
    @Test(.enabled(if: SimulatorLog.shared != nil))
    func brokenKernelsAreReported() throws {
        let source = KernelLibrary.common + "\n" + (try #require(KernelLibrary.families.first { $0.name == "gemm" })).source
        let mutations = [
            ("gemm_tiled_unchecked_rows", "(row < M && ak < K) ? A_AT(row, ak) : 0.0f", "A_AT(row, ak)", "invalid read"),
            ("gemm_tiled_missing_barrier", "barrier(CLK_LOCAL_MEM_FENCE);\n    }\n    if (row < M && col < N)",
             "\n    }\n    if (row < M && col < N)", "data race"),
        ]
        // one tile column, two tile rows (the second a remainder) and three K slices: a few hundred reports each,
        // within Oclgrind's 1,000 per device
        let (m, n, k) = (20, 16, 40)
        for (name, original, broken, expected) in mutations {
            let check = try KernelCheck(preset: "nvidia")
            check.expectNoReports("opening the device")
            let mutated = source.replacingOccurrences(of: original, with: broken)
                .replacingOccurrences(of: "__kernel void gemm_tiled(", with: "__kernel void \(name)(")
            #expect(mutated != source.replacingOccurrences(of: "__kernel void gemm_tiled(", with: "__kernel void \(name)("),
                    "\(name): the mutation no longer applies to gemm.cl")
            try check.gpu.buildOnRequest(family: "gemm", source: mutated,
                                         options: OpenCLDevice.buildOptions(for: "gemm", gemm: .nvidia, conv: .nvidia))
            // A, B and C in buffers of their own, so a read past A's end leaves its allocation
            let a = try check.gpu.makeBuffer(check.values(m * k)), b = try check.gpu.makeBuffer(check.values(k * n))
            let c = try check.gpu.makeBuffer(count: m * n, dtype: .float32)
            check.gpu.launch(name, global: [n, m], local: [OpenCLDevice.tiledSide, OpenCLDevice.tiledSide],
                             check.gpu.productArguments(a.whole, transposeA: false, b.whole, transposeB: false, into: c.whole,
                                                        m: m, n: n, k: k, alpha: 1, beta: 0, epilogue: .none, rowSums: nil,
                                                        kChunk: nil))
            try check.gpu.checkHealth()
            let reports = SimulatorLog.shared?.newReports() ?? ""
            #expect(reports.lowercased().contains(expected), "\(name): Oclgrind reported no \(expected):\n\(reports.prefix(2000))")
        }
    }
}

extension KernelCheck {
    /// The models of one training step: every kind with each architecture, plus batch norm and VQ's EMA codebook.
    static let models: [(name: String, config: ModelConfig)] = {
        var models: [(String, ModelConfig)] = []
        for arch in Architecture.allCases {
            for kind in ModelKind.allCases {
                var config = ModelConfig(kind: kind, architecture: arch, inputShape: [1, 8, 8])
                config.latentDim = 8
                config.hidden = [24]
                config.channels = [8, 16]
                config.denseWidth = 24
                config.vq.codebookSize = 16
                config.vq.codeDim = 4
                if kind == .sparse { config.sparsity = .topK(k: 3) }
                if kind == .denoising { config.corruption = .saltAndPepper(probability: 0.2) }
                models.append(("\(kind.rawValue) \(arch.rawValue)", config))
                if kind == .vae || kind == .vqVAE {
                    var variant = config
                    variant.batchNorm = .both
                    variant.vq.ema = true
                    models.append(("\(kind.rawValue) \(arch.rawValue) batch norm\(kind == .vqVAE ? ", EMA" : "")", variant))
                }
            }
        }
        return models
    }()

    /// One step of the trainer (gather, corrupt, forward, loss, backward, SGD update) for each model on both
    /// devices from the same initial weights: the weights after it and the step's loss terms.
    func oneTrainingStepOfEveryModel() throws {
        let digits = try BundledData.digits(split: .train).subset(Array(0..<48))
        for (name, config) in Self.models {
            try compare("one training step of \(name)", rtol: 1e-3, atol: 1e-4) { device in
                var training = TrainingConfig()
                training.batchSize = 16
                training.optimizer = .sgd
                training.learningRate = 0.1
                training.validationFraction = 0
                training.seed = 3
                let model = try Autoencoder(config: config, device: device, batchSize: training.batchSize, seed: training.seed)
                let trainer = try Trainer(model: model, config: training, training: digits, validation: nil)
                let order = DeviceDataset.permutation(count: trainer.training.count, seed: training.seed, epoch: 0)
                var batches = trainer.training.batches(order: order, dropLast: true)
                let next = batches.next()
                let batch = try #require(next)
                model.resetEpochSums()
                #expect(trainer.trainStep(on: batch).applied, "\(name) on \(device.info.description)")
                let sums = model.readEpochSums()
                return [device.read(model.store.values), [Float(sums.objective), Float(sums.reconstruction)]]
            }
        }
    }
}
