import ArgumentParser
import AutoencoderKit

/// `--likelihood`: one of the likelihoods, or `auto`, which picks Bernoulli when every training feature lies in
/// [0, 1] and Gaussian otherwise.
struct LikelihoodChoice: ExpressibleByArgument, Sendable {
    /// The likelihood asked for; nil for `auto`.
    let fixed: Likelihood?

    /// `auto`: decided by the data.
    static let auto = LikelihoodChoice(fixed: nil)

    private init(fixed: Likelihood?) { self.fixed = fixed }

    init?(argument: String) {
        if argument == "auto" {
            fixed = nil
        } else if let likelihood = Likelihood(rawValue: argument) {
            fixed = likelihood
        } else {
            return nil
        }
    }

    static var allValueStrings: [String] { Likelihood.allValueStrings + ["auto"] }

    var defaultValueDescription: String { fixed?.rawValue ?? "auto" }

    /// The likelihood for the training features of `data` (streamed data is read once to decide `auto`).
    func resolved(data: RunData) throws -> Likelihood {
        if let fixed { return fixed }
        let unit: (Float) -> Bool = { $0 >= 0 && $0 <= 1 }
        switch data {
        case .resident(let prepared): return prepared.train.features.allSatisfy(unit) ? .bernoulli : .gaussian
        case .streamed(let splits): return try splits.trainingValues(allSatisfy: unit) ? .bernoulli : .gaussian
        }
    }
}
