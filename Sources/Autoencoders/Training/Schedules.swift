import Foundation

/// How the weight β on the KL term moves over training (Bowman et al. 2016; Fu et al. 2019).
public enum KLSchedule: Codable, Equatable, Sendable {
    /// β throughout.
    case constant
    /// β rises linearly from 0 to its full value over the first `steps` optimizer steps.
    case linear(steps: Int)
    /// `cycles` cycles over the run's steps; in each, β rises linearly from 0 to its full value over the first
    /// fraction `ratio` of the cycle and then holds. The run's length is the trainer's (``Trainer/totalSteps``),
    /// so a run resumed with more epochs stretches its cycles as it stretches the learning-rate schedule.
    case cyclical(cycles: Int, ratio: Double)

    /// The KL weight in force at optimizer step `step` (counted from 0) of a run of `totalSteps` steps, for a full
    /// weight of `beta`.
    public func weight(step: Int, totalSteps: Int, beta: Double) -> Double {
        switch self {
        case .constant:
            return beta
        case .linear(let steps):
            guard steps > 0 else { return beta }
            return beta * min(1, Double(step) / Double(steps))
        case .cyclical(let cycles, let ratio):
            guard cycles > 0, totalSteps > 0, ratio > 0 else { return beta }
            let period = Double(totalSteps) / Double(cycles)
            let position = Double(step).truncatingRemainder(dividingBy: period) / period
            return beta * min(1, position / ratio)
        }
    }

    /// Parses `none`, `linear:STEPS` or `cyclical:CYCLES:RATIO`.
    public init(parsing text: String) throws {
        let parts = text.lowercased().split(separator: ":").map(String.init)
        switch parts.first {
        case "none", "constant":
            self = .constant
        case "linear" where parts.count == 2:
            guard let steps = Int(parts[1]), steps >= 0 else { throw ScheduleError.invalid(text, Self.usage) }
            self = .linear(steps: steps)
        case "cyclical" where parts.count == 3:
            guard let cycles = Int(parts[1]), cycles > 0, let ratio = Double(parts[2]), ratio > 0, ratio <= 1 else {
                throw ScheduleError.invalid(text, Self.usage)
            }
            self = .cyclical(cycles: cycles, ratio: ratio)
        default:
            throw ScheduleError.invalid(text, Self.usage)
        }
    }

    static let usage = "none, linear:STEPS or cyclical:CYCLES:RATIO (0 < RATIO ≤ 1)"
}

/// The target KL of capacity-controlled β-VAE training (Burgess et al. 2018): the loss weighs γ·|KL − C| with
/// C raised linearly from 0 to `maximum` nats over `steps` optimizer steps.
public struct CapacitySchedule: Codable, Equatable, Sendable {
    /// C_max in nats.
    public var maximum: Double
    /// Steps over which C rises to C_max.
    public var steps: Int
    /// γ, the weight on |KL − C|.
    public var gamma: Double

    public init(maximum: Double, steps: Int, gamma: Double) {
        self.maximum = maximum
        self.steps = steps
        self.gamma = gamma
    }

    /// C at optimizer step `step` (from 0).
    public func capacity(step: Int) -> Double {
        guard steps > 0 else { return maximum }
        return maximum * min(1, Double(step) / Double(steps))
    }
}

/// How the learning rate moves over training.
public enum LearningRateSchedule: Codable, Equatable, Sendable {
    /// The base rate throughout.
    case constant
    /// The rate is multiplied by `gamma` every `every` epochs.
    case step(every: Int, gamma: Double)
    /// Cosine annealing from the base rate to `minimum` over the whole run (per step).
    case cosine(minimum: Double)

    /// The learning rate at `step` of `totalSteps` (epoch `epoch`, from 0) for base rate `base`.
    public func rate(base: Double, step: Int, totalSteps: Int, epoch: Int) -> Double {
        switch self {
        case .constant:
            return base
        case .step(let every, let gamma):
            guard every > 0 else { return base }
            return base * pow(gamma, Double(epoch / every))
        case .cosine(let minimum):
            guard totalSteps > 1 else { return base }
            let progress = min(1, Double(step) / Double(totalSteps - 1))
            return minimum + 0.5 * (base - minimum) * (1 + cos(Double.pi * progress))
        }
    }

    /// Parses `constant`, `step:EVERY:GAMMA` or `cosine[:MIN]`.
    public init(parsing text: String) throws {
        let parts = text.lowercased().split(separator: ":").map(String.init)
        switch parts.first {
        case "constant" where parts.count == 1:
            self = .constant
        case "step" where parts.count == 3:
            guard let every = Int(parts[1]), every > 0, let gamma = Double(parts[2]), gamma > 0 else {
                throw ScheduleError.invalid(text, Self.usage)
            }
            self = .step(every: every, gamma: gamma)
        case "cosine" where parts.count <= 2:
            let minimum = parts.count == 2 ? Double(parts[1]) : 0
            guard let minimum, minimum >= 0 else { throw ScheduleError.invalid(text, Self.usage) }
            self = .cosine(minimum: minimum)
        default:
            throw ScheduleError.invalid(text, Self.usage)
        }
    }

    static let usage = "constant, step:EVERY_EPOCHS:GAMMA or cosine[:MIN_RATE]"
}

/// A schedule string that does not parse.
public enum ScheduleError: Error, CustomStringConvertible, Equatable {
    case invalid(String, String)

    public var description: String {
        switch self {
        case .invalid(let text, let usage): return "invalid schedule '\(text)': use \(usage)"
        }
    }
}
