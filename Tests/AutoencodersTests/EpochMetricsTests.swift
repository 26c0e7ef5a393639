import Autoencoders
import Testing

/// The one column list (``EpochMetrics/columns``) that `metrics.csv`, the `--json` line and the terminal read.
@Suite struct EpochMetricsTests {
    static var everything: EpochMetrics {
        var m = EpochMetrics(epoch: 3, step: 90, loss: 1.5, reconstruction: 1.25, learningRate: 1e-3, samplesPerSecond: 1234.5,
                             seconds: 2.5)
        m.kl = 0.25
        m.beta = 0.5
        m.activeUnits = 7
        m.perplexity = 12
        m.codebookUsage = 0.75
        m.l0 = 4
        m.deadUnits = 2
        m.explainedVariance = 0.9
        m.resampledUnits = 1
        m.penalty = 0.125
        m.validationLoss = 1.75
        m.validationReconstruction = 1.5
        m.validationKL = 0.25
        return m
    }

    @Test func everyReportReadsTheSameColumns() {
        let m = Self.everything
        #expect(EpochMetrics.csvHeader.count == Set(EpochMetrics.csvHeader).count)
        #expect(m.csvRow == ["3", "90", "1.5", "1.25", "0.25", "0.5", "7", "12", "0.75", "4", "2", "0.9", "1", "0.125", "1.75",
                             "1.5", "0.25", "0.001", "1234.5", "2.5"])
        let train = m.jsonValues(.train)
        #expect(Set(train.keys) == ["loss", "reconstruction", "kl", "beta", "active_units", "perplexity", "codebook_usage", "l0",
                                    "dead_units", "explained_variance", "resampled_units", "penalty", "learning_rate",
                                    "samples_per_second"])
        #expect(train["dead_units"] as? Int == 2 && train["l0"] as? Double == 4)
        let validation = m.jsonValues(.validation)
        #expect(validation["loss"] as? Double == 1.75 && validation["reconstruction"] as? Double == 1.5 && validation.count == 3)
        #expect(m.terminalTerms == " kl 0.2500 β 0.5 active 7 perplexity 12.0 usage 75% L0 4.00 dead 2 explained 0.900 penalty 0.1250 val 1.7500")
        // absent terms are empty fields, missing keys and no words
        let bare = EpochMetrics(epoch: 1, step: 1, loss: 1, reconstruction: 1, learningRate: 1, samplesPerSecond: 1, seconds: 1)
        #expect(bare.csvRow.filter(\.isEmpty).count == 13 && bare.jsonValues(.train).count == 4 && bare.terminalTerms.isEmpty)
    }
}
