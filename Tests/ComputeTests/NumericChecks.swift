/// ∂f/∂xᵢ for every i by central differences (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h, in Double.
func centralDifferenceGradient(at x: [Double], step h: Double = 1e-6, _ f: ([Double]) -> Double) -> [Double] {
    var probe = x
    return x.indices.map { i in
        probe[i] = x[i] + h
        let up = f(probe)
        probe[i] = x[i] - h
        let down = f(probe)
        probe[i] = x[i]
        return (up - down) / (2 * h)
    }
}

/// The largest |a − e| − (atol + rtol·|e|) over two Double vectors, or nil when every element passes.
func mismatchDoubles(_ actual: [Double], _ expected: [Double], rtol: Double, atol: Double) -> String? {
    guard actual.count == expected.count else { return "count \(actual.count) != \(expected.count)" }
    for i in actual.indices where !(abs(actual[i] - expected[i]) <= atol + rtol * abs(expected[i])) {
        return "element \(i): \(actual[i]) vs expected \(expected[i])"
    }
    return nil
}

/// The first element where two float arrays differ bit for bit (as values), or nil when they are equal.
func exactMismatch(_ actual: [Float], _ expected: [Float]) -> String? {
    guard actual.count == expected.count else { return "count \(actual.count) != \(expected.count)" }
    guard let i = actual.indices.first(where: { actual[$0] != expected[$0] }) else { return nil }
    return "element \(i): \(actual[i]) vs expected \(expected[i])"
}
