import Foundation

/// Multinomial logistic regression in Double on the host, for linear probes.
///
/// Features are standardized with the training mean and standard deviation; the model is
/// p(y = c | x) = softmax(W x + b)_c, fitted by full-batch gradient descent with Nesterov momentum on
/// L = −(1/n) Σ_i log p(y_i | x_i) + (λ/2)‖W‖²_F (the bias is not penalized).
public struct SoftmaxClassifier: Sendable {
    /// The classes, sorted; row c of the weights scores classes[c].
    public let classes: [Int32]
    let weights: [Double]  // [classes.count, d]
    let bias: [Double]
    let mean: [Double]
    let scale: [Double]    // 1/σ per feature (1 for constant features)

    /// Fits the classifier to n×d row-major `features` and their labels.
    ///
    /// - Precondition: `features.count == labels.count · d`, at least one sample.
    public init(features: [Double], labels: [Int32], dimension d: Int, l2: Double = 1e-3, iterations: Int = 500,
                learningRate: Double = 0.5) {
        let n = labels.count
        precondition(n > 0 && features.count == n * d, "one row of d features per label")
        classes = Array(Set(labels)).sorted()
        let k = classes.count
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        var mean = [Double](repeating: 0, count: d), scale = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += features[i * d + j] } }
        for j in 0..<d { mean[j] /= Double(n) }
        for i in 0..<n { for j in 0..<d { let v = features[i * d + j] - mean[j]; scale[j] += v * v } }
        for j in 0..<d {
            let sigma = (scale[j] / Double(n)).squareRoot()
            scale[j] = sigma > 1e-12 ? 1 / sigma : 1
        }
        var x = features
        for i in 0..<n { for j in 0..<d { x[i * d + j] = (x[i * d + j] - mean[j]) * scale[j] } }
        let y = labels.map { index[$0]! }

        var w = [Double](repeating: 0, count: k * d), b = [Double](repeating: 0, count: k)
        var vw = w, vb = b
        var probabilities = [Double](repeating: 0, count: k)
        let momentum = 0.9
        for _ in 0..<iterations {
            // gradient at the look-ahead point w + μ·v
            let lw = zip(w, vw).map { $0 + momentum * $1 }, lb = zip(b, vb).map { $0 + momentum * $1 }
            var gw = [Double](repeating: 0, count: k * d), gb = [Double](repeating: 0, count: k)
            for i in 0..<n {
                Self.softmax(weights: lw, bias: lb, row: x[(i * d)..<((i + 1) * d)], classes: k, into: &probabilities)
                probabilities[y[i]] -= 1
                for c in 0..<k {
                    let g = probabilities[c]
                    guard g != 0 else { continue }
                    gb[c] += g
                    for j in 0..<d { gw[c * d + j] += g * x[i * d + j] }
                }
            }
            for e in gw.indices { gw[e] = gw[e] / Double(n) + l2 * lw[e] }
            for c in 0..<k { gb[c] /= Double(n) }
            for e in w.indices { vw[e] = momentum * vw[e] - learningRate * gw[e]; w[e] += vw[e] }
            for c in 0..<k { vb[c] = momentum * vb[c] - learningRate * gb[c]; b[c] += vb[c] }
        }
        weights = w
        bias = b
        self.mean = mean
        self.scale = scale
    }

    /// The most probable class of each row of an n×d row-major matrix.
    public func predict(_ features: [Double]) -> [Int32] {
        let d = mean.count, k = classes.count
        let n = features.count / max(d, 1)
        var probabilities = [Double](repeating: 0, count: k)
        return (0..<n).map { i in
            let row = (0..<d).map { (features[i * d + $0] - mean[$0]) * scale[$0] }
            Self.softmax(weights: weights, bias: bias, row: row[...], classes: k, into: &probabilities)
            let best = probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0
            return classes[best]
        }
    }

    /// The fraction of rows whose predicted class is their label.
    public func accuracy(_ features: [Double], labels: [Int32]) -> Double {
        guard !labels.isEmpty else { return 0 }
        let predicted = predict(features)
        return Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(labels.count)
    }

    /// p = softmax(W x + b), computed with the maximum logit subtracted.
    private static func softmax(weights: [Double], bias: [Double], row: ArraySlice<Double>, classes k: Int,
                                into p: inout [Double]) {
        let d = row.count, base = row.startIndex
        var largest = -Double.infinity
        for c in 0..<k {
            var s = bias[c]
            for j in 0..<d { s += weights[c * d + j] * row[base + j] }
            p[c] = s
            largest = max(largest, s)
        }
        var total = 0.0
        for c in 0..<k { p[c] = exp(p[c] - largest); total += p[c] }
        for c in 0..<k { p[c] /= total }
    }
}
