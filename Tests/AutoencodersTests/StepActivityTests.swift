@testable import Autoencoders
import Compute
import Foundation
import Layers
import Testing
import TestSupport

/// The design rule "a training step allocates nothing and never waits for the device", checked with the device
/// activity counters: steps run exactly as the ``Trainer`` runs them must allocate no buffer, read nothing back,
/// write nothing and never synchronize; whole epochs must allocate nothing after the first and read back a fixed
/// number of times however many steps they have (besides the periodic progress read-back).
///
/// Each test opens its own device, since the shared test devices count the work of tests running beside it.
@Suite struct StepActivityTests {
    static let digits = try! BundledData.digits(split: .train)

    /// A model and training setup under test.
    struct Case: CustomStringConvertible, Sendable {
        let name: String
        let model: ModelConfig
        let training: TrainingConfig
        var description: String { name }
    }

    static func model(_ kind: ModelKind, _ arch: Architecture = .mlp, _ adjust: (inout ModelConfig) -> Void = { _ in }) -> ModelConfig {
        var config = ModelConfig(kind: kind, architecture: arch, inputShape: [1, 8, 8])
        config.latentDim = 16
        config.hidden = kind == .contractive ? [] : [32]
        config.channels = [8]
        config.denseWidth = 32
        config.vq.codebookSize = 16
        config.vq.codeDim = 4
        adjust(&config)
        return config
    }

    static func training(_ adjust: (inout TrainingConfig) -> Void = { _ in }) -> TrainingConfig {
        var training = TrainingConfig()
        training.batchSize = 32
        training.learningRate = 1e-3
        training.validationFraction = 0
        training.seed = 5
        adjust(&training)
        return training
    }

    static let cases: [Case] = [
        Case(name: "ae", model: model(.ae), training: training()),
        Case(name: "vae", model: model(.vae), training: training()),
        Case(name: "beta-vae capacity", model: model(.betaVAE) {
            $0.capacity = CapacitySchedule(maximum: 5, steps: 20, gamma: 10)
        }, training: training()),
        Case(name: "vae free bits", model: model(.vae) { $0.freeBits = 0.2 }, training: training()),
        Case(name: "vae KL annealing", model: model(.vae), training: training { $0.klSchedule = .linear(steps: 30) }),
        Case(name: "vae cyclical KL, batch norm, clipping, cosine lr", model: model(.vae) { $0.batchNorm = .both },
             training: training {
                 $0.klSchedule = .cyclical(cycles: 2, ratio: 0.5)
                 $0.gradientClip = 1
                 $0.learningRateSchedule = .cosine(minimum: 1e-5)
             }),
        Case(name: "vq-vae codebook loss", model: model(.vqVAE), training: training()),
        Case(name: "vq-vae EMA", model: model(.vqVAE) { $0.vq.ema = true }, training: training()),
        Case(name: "denoising gaussian", model: model(.denoising) { $0.corruption = .gaussian(sigma: 0.3) },
             training: training()),
        Case(name: "denoising masking", model: model(.denoising) { $0.corruption = .masking(probability: 0.3) },
             training: training()),
        Case(name: "denoising salt and pepper", model: model(.denoising) { $0.corruption = .saltAndPepper(probability: 0.2) },
             training: training()),
        Case(name: "sparse L1", model: model(.sparse) { $0.sparsity = .l1(lambda: 1e-3) }, training: training()),
        Case(name: "sparse top-k", model: model(.sparse) { $0.sparsity = .topK(k: 4) }, training: training()),
        Case(name: "sparse SAE", model: model(.sparse) {
            $0.inputShape = [64]
            $0.hidden = []
            $0.likelihood = .gaussian
            $0.sparsity = .topK(k: 4)
            $0.sae = SAEOptions()
        }, training: training()),
        Case(name: "contractive exact", model: model(.contractive), training: training()),
        Case(name: "contractive stochastic", model: model(.contractive) { $0.hidden = [32] }, training: training()),
        Case(name: "conv vae", model: model(.vae, .conv), training: training()),
        Case(name: "conv ae, sgd momentum", model: model(.ae, .conv), training: training { $0.optimizer = .sgd }),
        Case(name: "vae adamw", model: model(.vae), training: training { $0.optimizer = .adamw; $0.weightDecay = 0.01 }),
    ]

    /// A device of its own for one test (selectors as in ``TestDevices``).
    static func openDevice(_ selector: String) throws -> any Device {
        try Devices.open(DeviceSelection(parsing: selector))
    }

    static func trainer(_ testCase: Case, device: any Device, samples: Int) throws -> Trainer {
        let data = testCase.model.inputShape == [64]
            ? Dataset(name: "digits", shape: [64], features: Array(digits.features.prefix(samples * 64)))
            : digits.subset(Array(0..<samples))
        let model = try Autoencoder(config: testCase.model, device: device, batchSize: testCase.training.batchSize,
                                    seed: testCase.training.seed)
        return try Trainer(model: model, config: testCase.training, training: data, validation: nil)
    }

    /// Runs `count` trainer steps over shuffled batches (gather, zero gradients, forward/backward, update) and
    /// returns the device activity they caused.
    static func steps(_ trainer: Trainer, count: Int, epoch: Int) -> (DeviceActivity, applied: Int) {
        let device = trainer.model.device
        let order = DeviceDataset.permutation(count: trainer.training.count, seed: trainer.config.seed, epoch: epoch)
        var batches = trainer.training.batches(order: order, dropLast: true)
        precondition(batches.batchCount >= count, "too few batches")
        let before = device.activity
        var applied = 0
        for _ in 0..<count {
            guard let batch = batches.next() else { break }
            if trainer.trainStep(on: batch).applied { applied += 1 }
        }
        return (device.activity - before, applied)
    }

    @Test(arguments: TestDevices.selectors, cases)
    func stepsAllocateNothingAndNeverWait(selector: String, testCase: Case) throws {
        let device = try Self.openDevice(selector)
        let trainer = try Self.trainer(testCase, device: device, samples: 32 * 25)
        _ = Self.steps(trainer, count: 3, epoch: 0)   // warm-up
        let (activity, applied) = Self.steps(trainer, count: 20, epoch: 1)
        #expect(applied == 20)
        #expect(activity.allocations == 0, "\(testCase): \(activity)")
        #expect(activity.reads == 0, "\(testCase): \(activity)")
        #expect(activity.writes == 0, "\(testCase): \(activity)")
        #expect(activity.synchronizations == 0, "\(testCase): \(activity)")
        // the CPU backend launches nothing; an OpenCL step is a forward, a backward and an update: many kernels
        #expect(device.info.kind == .cpu ? activity.launches == 0 : activity.launches >= 20 * 8, "\(testCase): \(activity)")
        try device.checkHealth()
        #expect(trainer.model.readEpochSums().objective.isFinite)
    }

    /// `--on-nan skip` decides on the host whether each step's update applies: exactly one read-back of one
    /// float per step, and still no allocation, write or synchronization.
    @Test(arguments: TestDevices.selectors)
    func skipPolicyReadsOneFloatPerStep(selector: String) throws {
        let device = try Self.openDevice(selector)
        let testCase = Case(name: "vae skip", model: Self.model(.vae), training: Self.training { $0.onNonFinite = .skip })
        let trainer = try Self.trainer(testCase, device: device, samples: 32 * 25)
        _ = Self.steps(trainer, count: 3, epoch: 0)
        let (activity, applied) = Self.steps(trainer, count: 20, epoch: 1)
        #expect(applied == 20)
        #expect(activity.reads == 20 && activity.readBytes == 20 * 4, "\(activity)")
        #expect(activity.allocations == 0 && activity.writes == 0 && activity.synchronizations == 0, "\(activity)")
    }

    /// The launch budget of an MLP VAE step on OpenCL, with L Linear layers (heads included): L forward products,
    /// 2L − 1 backward ones (each weight gradient carries its bias gradient, each input gradient the act′ of the layer
    /// before; the first layer needs none), and six more kernels: gather the batch, the latent forward and backward
    /// (reparameterization and KL), the loss, the epoch sums, Adam (which also clears the gradients). The test
    /// shapes are small enough that no product splits K.
    @Test(arguments: TestDevices.selectors.filter { $0 != "cpu" })
    func vaeStepLaunchesFusedKernels(selector: String) throws {
        let device = try Self.openDevice(selector)
        let trainer = try Self.trainer(Self.cases[1], device: device, samples: 32 * 25)
        _ = Self.steps(trainer, count: 3, epoch: 0)
        let (activity, _) = Self.steps(trainer, count: 20, epoch: 1)
        let linears = 1 + 2 + 2   // encoder 64→32, heads 32→16 twice, decoder 16→32→64
        #expect(activity.launches == 20 * (3 * linears - 1 + 6), "\(activity)")
    }

    /// Capacity training keeps the sign of KL − C on the device: the same weights as γ·|KL − C| computed on the
    /// host, checked by running one step with C far below and far above the batch KL (sign +1 and −1) against a
    /// plain β·KL step of weight ±γ.
    @Test(arguments: TestDevices.selectors)
    func capacitySignMatchesSignedKLWeight(selector: String) throws {
        let device = try Self.openDevice(selector)
        let config = Self.model(.betaVAE)
        let batch = try device.makeBuffer(Array(Self.digits.features.prefix(32 * 64)))
        func gradients(_ kl: Autoencoder.KLTerm) throws -> ([Float], Double) {
            let model = try Autoencoder(config: config, device: device, batchSize: 32, seed: 9)
            model.resetEpochSums()
            model.store.zeroGradients()
            model.trainStep(batch.whole, context: StepContext(training: true, seed: 1, step: 0), kl: kl)
            let sums = model.readEpochSums()
            return (device.read(model.store.gradients), sums.objective - sums.reconstruction)
        }
        for (target, sign) in [(-100.0, 1.0), (1e6, -1.0)] {
            let (capacity, capacityObjective) = try gradients(.init(weight: 4, capacity: (target, 3)))
            let (signed, klObjective) = try gradients(.init(weight: 3 * sign))
            #expect(mismatch(capacity, doubles(signed), rtol: 1e-4, atol: 1e-6) == nil, "C = \(target)")
            // B·γ·|KL̄ − C| = γ·|ΣKL − B·C|
            let klSum = klObjective / (3 * sign)
            #expect(abs(capacityObjective - 3 * abs(klSum - 32 * target)) <= 1e-4 * abs(capacityObjective), "C = \(target)")
        }
    }

    /// Whole epochs through ``Trainer/run(events:epochEnd:)``: no allocation after the first epoch, and the
    /// reads and waits of an epoch, less the progress read-backs, are the same for 10 and 20 steps.
    @Test(arguments: TestDevices.selectors, [cases[1], cases[6], cases[11], cases[16]])
    func epochsReadBackAFixedNumberOfTimes(selector: String, testCase: Case) throws {
        let device = try Self.openDevice(selector)
        var perEpoch: [Int: [DeviceActivity]] = [:]
        for steps in [10, 20] {
            var training = testCase.training
            training.epochs = 3
            let trainer = try Self.trainer(Case(name: testCase.name, model: testCase.model, training: training),
                                           device: device, samples: 32 * steps + 5)
            trainer.progressInterval = 4
            var last = device.activity
            try trainer.run(events: { event in
                guard case .epoch = event else { return }
                let now = device.activity
                perEpoch[steps, default: []].append(now - last)
                last = now
            })
        }
        let short = try #require(perEpoch[10]), long = try #require(perEpoch[20])
        #expect(short.count == 3 && long.count == 3)
        for (epoch, activity) in (short.dropFirst() + long.dropFirst()).enumerated() {
            #expect(activity.allocations == 0, "\(testCase), epoch \(epoch % 2 + 2): \(activity)")
        }
        // progress read-backs: ⌊steps/4⌋ per epoch
        for index in 0..<3 {
            #expect(short[index].reads - 10 / 4 == long[index].reads - 20 / 4, "\(testCase): \(short[index]) vs \(long[index])")
            #expect(short[index].synchronizations == long[index].synchronizations, "\(testCase)")
            #expect(short[index].reads - 10 / 4 <= 4, "\(testCase): \(short[index])")
        }
    }
}
