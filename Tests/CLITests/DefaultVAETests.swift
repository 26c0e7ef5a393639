import Foundation
import Testing

/// The default VAE of `autoencoder train` keeps its latent units: the README's conv command on the bundled
/// digits, shortened to 10 epochs, used to carry KL < 0.01 nats in all 32 dimensions with none active.
@Suite struct DefaultVAETests {
    @Test func theReadmeConvVAEEndsWithoutPosteriorCollapse() throws {
        let folder = try CLIRunner.temporaryFolder()
        let run = folder.appendingPathComponent("conv")
        let result = try CLIRunner.run(["train", "--arch", "conv", "--latent-dim", "32", "--epochs", "10", "--batch-size", "128",
                                        "--device", "cpu", "--out", run.path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains("posterior collapse"), "\(result.stderr)")
        let train = try #require(CLIRunner.json(result)?["train"] as? [String: Any], "\(result.stdout)")
        let active = try #require(train["active_units"] as? Int)
        #expect(active > 16, "only \(active) of 32 latent units active")
        let config = try String(contentsOf: run.appendingPathComponent("config.json"), encoding: .utf8)
        #expect(config.contains("\"freeBits\""), "config.json does not record the free bits: \(config)")
    }
}
