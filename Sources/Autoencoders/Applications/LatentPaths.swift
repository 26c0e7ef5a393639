import Foundation

/// Paths and grids through latent space, to decode into pictures of what a model has learned.
public enum LatentPath {
    /// `steps` codes from `a` to `b` on the straight line z(t) = (1 − t)·a + t·b, t = i/(steps − 1)
    /// (both ends included; a single step gives `a`).
    public static func linear(from a: [Float], to b: [Float], steps: Int) -> [[Float]] {
        precondition(a.count == b.count, "interpolation endpoints of different widths")
        return parameters(steps).map { t in
            zip(a, b).map { Float((1 - t) * Double($0) + t * Double($1)) }
        }
    }

    /// `steps` codes from `a` to `b` by spherical linear interpolation (Shoemake 1985; White 2016 for latent
    /// spaces): with Ω the angle between them, cos Ω = a·b / (‖a‖‖b‖),
    /// z(t) = sin((1 − t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b, which follows the great circle when ‖a‖ = ‖b‖ and keeps
    /// the norm of Gaussian codes typical along the way. When sin Ω is tiny (parallel or zero vectors) it falls back
    /// to ``linear(from:to:steps:)``; for opposite vectors the great circle is not unique and the line is used too.
    public static func slerp(from a: [Float], to b: [Float], steps: Int) -> [[Float]] {
        precondition(a.count == b.count, "interpolation endpoints of different widths")
        let normA = a.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let normB = b.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let dot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        guard normA > 0, normB > 0 else { return linear(from: a, to: b, steps: steps) }
        let omega = acos(min(1, max(-1, dot / (normA * normB))))
        let sinOmega = sin(omega)
        guard sinOmega > 1e-6 else { return linear(from: a, to: b, steps: steps) }
        return parameters(steps).map { t in
            let wa = sin((1 - t) * omega) / sinOmega, wb = sin(t * omega) / sinOmega
            return zip(a, b).map { Float(wa * Double($0) + wb * Double($1)) }
        }
    }

    /// A latent traversal: for every dimension j, `steps` codes equal to `center` except z_j, swept over
    /// center_j + o·σ_j with o = −range + 2·range·i/(steps − 1) (o = 0 for one step). Row j of the result holds
    /// the codes of dimension j. Use σ = 1 around 0 for a VAE (its prior), the codes' mean and standard deviation
    /// otherwise.
    public static func traversal(center: [Double], sigma: [Double], steps: Int, range: Double = 3) -> [[[Float]]] {
        precondition(center.count == sigma.count, "center and sigma of different widths")
        let offsets = traversalOffsets(steps: steps, range: range)
        return center.indices.map { j in
            offsets.map { offset in
                var code = center.map(Float.init)
                code[j] = Float(center[j] + offset * sigma[j])
                return code
            }
        }
    }

    /// The offsets o (in units of σ) of a traversal's columns.
    public static func traversalOffsets(steps: Int, range: Double = 3) -> [Double] {
        parameters(steps).map { steps > 1 ? -range + 2 * range * $0 : 0 }
    }

    /// t_i = i/(steps − 1) for i in 0..<steps (just 0 for one step).
    private static func parameters(_ steps: Int) -> [Double] {
        precondition(steps > 0, "a path needs at least one step")
        return (0..<steps).map { steps > 1 ? Double($0) / Double(steps - 1) : 0 }
    }
}

/// An operand of latent arithmetic: the code of one sample, or the mean code of the samples of one class.
public enum LatentOperand: Equatable, Sendable, CustomStringConvertible {
    /// The code of sample `index` of the data.
    case sample(Int)
    /// The mean code of the samples labelled `label`.
    case labelMean(Int32)

    /// Parses `I` (a sample index) or `label:K`.
    ///
    /// - Throws: `ConfigError.invalid` for anything else.
    public init(parsing text: String) throws {
        if let index = Int(text), index >= 0 {
            self = .sample(index)
        } else if text.hasPrefix("label:"), let label = Int32(text.dropFirst("label:".count)) {
            self = .labelMean(label)
        } else {
            throw ConfigError.invalid("operand '\(text)': use a sample index (0, 1, …) or label:K for the mean code of class K")
        }
    }

    /// The operand's code among `codes`.
    ///
    /// - Throws: `ConfigError.invalid` for an index out of range or a missing label.
    public func code(in codes: LatentCodes) throws -> [Float] {
        switch self {
        case .sample(let index):
            guard index < codes.count else {
                throw ConfigError.invalid("sample index \(index) is out of range: the data has \(codes.count) samples (0…\(codes.count - 1))")
            }
            return codes.code(index)
        case .labelMean(let label):
            return try codes.mean(label: label)
        }
    }

    /// `I` or `label:K`, as parsed.
    public var description: String {
        switch self {
        case .sample(let index): return String(index)
        case .labelMean(let label): return "label:\(label)"
        }
    }
}

/// Latent arithmetic (Radford et al. 2016; White 2016): z = z_a − z_b + z_c moves z_a by the difference between
/// c and b, e.g. “a smiling face” − “a neutral face” + “another neutral face”.
public enum LatentArithmetic {
    /// z_a − z_b + z_c, element by element (in Double, rounded once).
    public static func combine(_ a: [Float], minus b: [Float], plus c: [Float]) -> [Float] {
        precondition(a.count == b.count && b.count == c.count, "operands of different widths")
        return a.indices.map { Float(Double(a[$0]) - Double(b[$0]) + Double(c[$0])) }
    }
}
