import AutoencoderKit
import Foundation
import FuzzSupport

/// The JSON a run stores in its `config.json`: `ModelConfig` (then `validate()`), `TrainingConfig` (then
/// `validate(trainingSamples:)`) and `Normalizer` decoded with `JSONDecoder`. `DecodingError` and
/// `ConfigError` are the typed errors here; an accepted normalizer must be finite with positive divisors.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let json = Data(fuzzBytes(data, size))
    let decoder = JSONDecoder()
    expectingConfigError {
        let model = try decoder.decode(ModelConfig.self, from: json)
        try model.validate()
    }
    expectingConfigError {
        let training = try decoder.decode(TrainingConfig.self, from: json)
        try training.validate(trainingSamples: 1000)
    }
    expectingConfigError {
        let normalizer = try decoder.decode(Normalizer.self, from: json)
        require(normalizer.shift.count == normalizer.divisor.count, "shift and divisor differ in length")
        require(normalizer.divisor.allSatisfy { $0.isFinite && $0 > 0 }, "a divisor is not finite and positive")
    }
    return 0
}

/// Runs `body`, accepting the errors a bad configuration should give and crashing on any other.
private func expectingConfigError(_ body: () throws -> Void) {
    do {
        try body()
    } catch is DecodingError {
        return
    } catch is ConfigError {
        return
    } catch {
        fatalError("a configuration decode threw an unexpected error: \(String(reflecting: error))")
    }
}
