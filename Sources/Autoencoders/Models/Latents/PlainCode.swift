import Compute
import Layers

/// The deterministic code of a plain or denoising autoencoder: z = h = Linear(body). A denoising autoencoder
/// corrupts its training inputs (never its evaluation inputs) and reconstructs the clean ones.
final class PlainCode: Latent {
    let encoderHead: [any Layer]
    /// The corruption of the training inputs; nil for a plain autoencoder.
    let corruption: Corruption?
    private var setting: LatentSetting?
    private var corrupted: Buffer?

    init(config: ModelConfig, bodyWidth: Int, corruption: Corruption?) {
        encoderHead = [Linear(bodyWidth, config.latentDim)]
        self.corruption = corruption
    }

    var terms: LatentTerms { [] }
    var configurationKeys: Set<String> { corruption == nil ? [] : ["corruption"] }

    func prepare(_ setting: LatentSetting, encoder: Sequential) throws {
        self.setting = setting
        if corruption != nil { corrupted = try setting.floats(setting.batch * setting.inputDimension) }
    }

    func encoderInput(_ x: BufferSlice, context: StepContext) -> BufferSlice {
        guard context.training, let corruption, let setting, let corrupted else { return x }
        let target = corrupted.slice(0, x.count)
        setting.device.corrupt(x, into: target, corruption: corruption,
                               random: context.randomStream(purpose: setting.corruptionStream, rowWidth: setting.inputDimension))
        return target
    }

    func forward(_ h: BufferSlice, context: StepContext) -> BufferSlice { h }

    func backward(_ dz: BufferSlice, h: BufferSlice, context: StepContext, kl: Autoencoder.KLTerm) -> BufferSlice { dz }

    func describeEpoch(into metrics: inout EpochMetrics, sums: EpochSumValues, samples: Int, klWeight: Double) {}
}
