/// Errors raised while assembling layers. Each prints as one line.
public enum LayerError: Error, CustomStringConvertible, Equatable {
    /// The input shape cannot feed the layer: names the layer and what is wrong.
    case invalidShape(layer: String, message: String)
    /// A layer's hyper-parameters are impossible (a negative size, a dropout rate outside [0, 1]).
    case invalidConfiguration(layer: String, message: String)
    /// No parameter or state entry of that name exists in the store.
    case unknownParameter(String)
    /// Two declarations used the same name.
    case duplicateName(String)

    public var description: String {
        switch self {
        case .invalidShape(let layer, let message): return "\(layer): \(message)"
        case .invalidConfiguration(let layer, let message): return "\(layer): \(message)"
        case .unknownParameter(let name): return "no parameter or state named '\(name)'"
        case .duplicateName(let name): return "the name '\(name)' is declared twice"
        }
    }
}
