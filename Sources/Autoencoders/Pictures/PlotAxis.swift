import Foundation

/// One numeric axis of a plot: its range, linear or base-10 logarithmic scale, and tick marks.
///
/// Unless the range is fixed, the axis spans the data [lo, hi] plus a margin of 4 % of hi − lo on each side (in
/// log10 units on a log axis), so points on the extremes are not cut by the frame. A linear axis has ticks at the
/// multiples of a "nice" step s = m · 10^k (m ∈ {1, 2, 5}, the nearest to (hi − lo) / 5) inside the range.
/// A logarithmic axis has ticks at 1–9 times each decade when it spans less than one decade, at 1, 2 and 5 times
/// each decade up to two decades, and otherwise at every decade (at the multiples of n when there are more than
/// 6n decades).
struct PlotAxis {
    /// Whether positions are proportional to log10 of the value.
    let logarithmic: Bool
    /// The lower end of the axis (in log10 units when `logarithmic`).
    let lower: Double
    /// The upper end of the axis (in log10 units when `logarithmic`).
    let upper: Double
    /// Tick positions as data values, each with its label.
    let ticks: [(value: Double, label: String)]

    /// The axis fitting the finite `values` (the positive ones for a log axis), or exactly `fixed` when given.
    init(fitting values: [Double], logarithmic: Bool, fixed: ClosedRange<Double>? = nil) {
        self.logarithmic = logarithmic
        let usable = values.filter { $0.isFinite && (!logarithmic || $0 > 0) }
        if logarithmic {
            var low: Double, high: Double
            if let fixed, fixed.lowerBound > 0 {
                (low, high) = (log10(fixed.lowerBound), log10(fixed.upperBound))
            } else {
                low = usable.min().map(log10) ?? 0
                high = usable.max().map(log10) ?? 1
                if high - low < 1e-12 { (low, high) = (low - 0.5, high + 0.5) }
                let margin = Self.margin * (high - low)
                (low, high) = (low - margin, high + margin)
            }
            if high <= low { high = low + 1 }
            lower = low
            upper = high
            ticks = Self.logTicks(lower: low, upper: high)
        } else {
            var low = fixed?.lowerBound ?? usable.min() ?? 0
            var high = fixed?.upperBound ?? usable.max() ?? 1
            if high - low <= 1e-12 * max(abs(low), abs(high)) {
                let widen = low == 0 ? 1 : abs(low) * 0.1
                (low, high) = (low - widen, high + widen)
            }
            let step = Self.niceStep((high - low) / 5)
            if fixed == nil {
                let margin = Self.margin * (high - low)
                (low, high) = (low - margin, high + margin)
            }
            lower = low
            upper = high
            ticks = Self.linearTicks(lower: low, upper: high, step: step)
        }
    }

    /// The fraction of the data span added on each side of a fitted axis.
    static let margin = 0.04

    /// Where `value` falls along the axis: 0 at `lower`, 1 at `upper`; nil when it cannot be placed (not finite,
    /// or not positive on a log axis).
    func fraction(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        if logarithmic {
            guard value > 0 else { return nil }
            return (log10(value) - lower) / (upper - lower)
        }
        return (value - lower) / (upper - lower)
    }

    /// m · 10^k with m ∈ {1, 2, 5}, the such number nearest to `rough` on a log scale.
    static func niceStep(_ rough: Double) -> Double {
        let magnitude = pow(10, log10(rough).rounded(.down))
        let candidates = [1.0, 2, 5, 10].map { $0 * magnitude }
        return candidates.min { abs(log(rough / $0)) < abs(log(rough / $1)) }!
    }

    private static func linearTicks(lower: Double, upper: Double, step: Double) -> [(value: Double, label: String)] {
        let first = (lower / step - 1e-9).rounded(.up)
        let last = (upper / step + 1e-9).rounded(.down)
        guard first <= last else { return [] }
        let decimals = max(0, Int((-log10(step) - 1e-9).rounded(.up)))
        let large = max(abs(lower), abs(upper)) >= 1e5 || step < 1e-4
        return stride(from: first, through: last, by: 1).map { index in
            let value = index * step
            return (value, large ? scientific(value) : String(format: "%.\(decimals)f", value == 0 ? 0 : value))
        }
    }

    private static func logTicks(lower: Double, upper: Double) -> [(value: Double, label: String)] {
        let decades = upper - lower
        let every = max(1, Int((decades / 6).rounded(.up)))
        let multiples: [Double] = decades < 1 ? [1, 2, 3, 4, 5, 6, 7, 8, 9] : decades <= 2 ? [1, 2, 5] : [1]
        var ticks: [(value: Double, label: String)] = []
        let first = Int((lower / Double(every)).rounded(.down)) * every  // a multiple of `every`: 1e-6, 1e-3, 1, …
        for exponent in stride(from: first, through: Int(upper.rounded(.down)), by: every) {
            for multiple in multiples {
                let position = Double(exponent) + log10(multiple)
                guard position >= lower - 1e-9, position <= upper + 1e-9 else { continue }
                let value = multiple * pow(10, Double(exponent))
                let label = (-3...4).contains(exponent)
                    ? String(format: "%.\(max(0, -exponent))f", value)
                    : scientific(value)
                ticks.append((value, label))
            }
        }
        return ticks
    }

    /// `value` as mantissa "e" exponent with at most two decimals, e.g. 2.5e-6.
    private static func scientific(_ value: Double) -> String {
        guard value != 0 else { return "0" }
        var exponent = Int(log10(abs(value)).rounded(.down))
        var text = String(format: "%.2f", value / pow(10, Double(exponent)))
        if let rounded = Double(text), abs(rounded) >= 10 {
            exponent += 1
            text = String(format: "%.2f", value / pow(10, Double(exponent)))
        }
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return "\(text)e\(exponent)"
    }
}
