import Foundation

/// Principal component analysis in Double on the host: the covariance C = (1/(n−1)) Σ (x − x̄)(x − x̄)^T and
/// its symmetric eigendecomposition by cyclic Jacobi rotations; components sorted by decreasing variance.
public struct PCA: Sendable {
    /// The mean sample x̄ (d values).
    public let mean: [Double]
    /// The first k principal directions, unit vectors of d values each, by decreasing eigenvalue.
    public let components: [[Double]]
    /// The variance along each kept component (its eigenvalue of C).
    public let variances: [Double]

    /// Fits `components` directions to the rows of an n×d matrix `rows` (row-major).
    ///
    /// - Precondition: n ≥ 2, `rows.count == n·d`, 1 ≤ components ≤ d.
    public init(rows: [Double], count n: Int, dimension d: Int, components k: Int) {
        precondition(n >= 2 && rows.count == n * d && k >= 1 && k <= d, "PCA needs n ≥ 2 rows of d values and 1 ≤ k ≤ d")
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += rows[i * d + j] } }
        for j in 0..<d { mean[j] /= Double(n) }
        var covariance = [Double](repeating: 0, count: d * d)
        var centered = [Double](repeating: 0, count: d)
        for i in 0..<n {
            for j in 0..<d { centered[j] = rows[i * d + j] - mean[j] }
            for a in 0..<d {
                let ca = centered[a]
                guard ca != 0 else { continue }
                for b in a..<d { covariance[a * d + b] += ca * centered[b] }
            }
        }
        for a in 0..<d {
            for b in a..<d {
                covariance[a * d + b] /= Double(n - 1)
                covariance[b * d + a] = covariance[a * d + b]
            }
        }
        let (values, vectors) = Self.jacobiEigen(covariance, size: d)
        let order = values.indices.sorted { values[$0] > values[$1] }.prefix(k)
        self.mean = mean
        self.variances = order.map { values[$0] }
        self.components = order.map { c in (0..<d).map { vectors[$0 * d + c] } }
    }

    /// The coordinates of each row on the components: y_i = V^T (x_i − x̄), an n×k row-major matrix.
    public func transform(_ rows: [Double], count n: Int) -> [Double] {
        let d = mean.count, k = components.count
        var out = [Double](repeating: 0, count: n * k)
        for i in 0..<n {
            for c in 0..<k {
                var s = 0.0
                for j in 0..<d { s += (rows[i * d + j] - mean[j]) * components[c][j] }
                out[i * k + c] = s
            }
        }
        return out
    }

    /// Eigenvalues and eigenvectors (columns of the returned row-major d×d matrix) of a symmetric matrix by
    /// cyclic Jacobi: each sweep zeroes every off-diagonal a_pq with the rotation of angle θ,
    /// tan 2θ = 2a_pq/(a_qq − a_pp), until the off-diagonal mass is below 10⁻²⁴ of the total (at most 100 sweeps).
    public static func jacobiEigen(_ matrix: [Double], size d: Int) -> (values: [Double], vectors: [Double]) {
        var a = matrix
        var v = [Double](repeating: 0, count: d * d)
        for i in 0..<d { v[i * d + i] = 1 }
        let total = a.reduce(0) { $0 + $1 * $1 }
        for _ in 0..<100 {
            var off = 0.0
            for p in 0..<d { for q in (p + 1)..<max(d, p + 1) { off += a[p * d + q] * a[p * d + q] } }
            if off <= 1e-24 * max(total, .leastNormalMagnitude) { break }
            for p in 0..<d {
                for q in (p + 1)..<max(d, p + 1) {
                    let apq = a[p * d + q]
                    guard abs(apq) > 1e-300 else { continue }
                    let theta = (a[q * d + q] - a[p * d + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<d {  // columns p, q of A·J
                        let akp = a[k * d + p], akq = a[k * d + q]
                        a[k * d + p] = c * akp - s * akq
                        a[k * d + q] = s * akp + c * akq
                    }
                    for k in 0..<d {  // rows p, q of J^T·A
                        let apk = a[p * d + k], aqk = a[q * d + k]
                        a[p * d + k] = c * apk - s * aqk
                        a[q * d + k] = s * apk + c * aqk
                    }
                    for k in 0..<d {
                        let vkp = v[k * d + p], vkq = v[k * d + q]
                        v[k * d + p] = c * vkp - s * vkq
                        v[k * d + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<d).map { a[$0 * d + $0] }, v)
    }
}
