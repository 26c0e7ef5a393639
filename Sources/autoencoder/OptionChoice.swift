import ArgumentParser
import AutoencoderKit

/// A value of an enum-valued option that is none of its values: `unknown --model 'transformer': use ae, vae, …`
/// (argument-parser prints it after its own "The value 'transformer' is invalid for '--model <model>': ").
struct UnknownChoice: Error, CustomStringConvertible {
    /// The option as the user writes it, e.g. `--model`.
    let option: String
    /// What the user gave.
    let value: String
    /// Every value the option takes.
    let choices: [String]

    var description: String { "unknown \(option) '\(value)': use \(Self.list(choices))" }

    /// `a`, `a or b`, `a, b or c`.
    static func list(_ values: [String]) -> String {
        guard let last = values.last else { return "" }
        return values.count == 1 ? last : values.dropLast().joined(separator: ", ") + " or " + last
    }
}

extension ExpressibleByArgument {
    /// The `transform:` of an `@Option` that takes one of this type's ``allValueStrings``: any other value is an
    /// ``UnknownChoice`` naming `option`, the value and the choices (argument-parser's own message for an enum
    /// has no room for ours, and lists six or more values on lines of their own).
    static func choice(of option: String) -> @Sendable (String) throws -> Self {
        { text in
            guard let value = Self(argument: text) else {
                throw UnknownChoice(option: option, value: text, choices: allValueStrings)
            }
            return value
        }
    }
}

extension ArgumentHelp {
    /// Help for an option that takes one of `type`'s values: `abstract`, then `(values: a, b; default: a)` as
    /// argument-parser writes it for an enum option without a transform (an option parsed by
    /// ``ExpressibleByArgument/choice(of:)`` has one, so argument-parser lists nothing itself).
    static func choice<T: ExpressibleByArgument>(_ abstract: String, of type: T.Type, default value: T? = nil) -> ArgumentHelp {
        let fallback = value.map { "; default: \($0.defaultValueDescription)" } ?? ""
        return ArgumentHelp("\(abstract) (values: \(T.allValueStrings.joined(separator: ", "))\(fallback))")
    }
}

extension ModelKind: ExpressibleByArgument {}
extension Architecture: ExpressibleByArgument {}
extension Normalizer.Method: ExpressibleByArgument {}
extension Likelihood: ExpressibleByArgument {}
extension SAEExportFormat: ExpressibleByArgument {}
extension BatchNormPlacement: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
extension NonFinitePolicy: ExpressibleByArgument {}
extension AnomalyScoreKind: ExpressibleByArgument {}
extension MatmulPrecision: ExpressibleByArgument {}
