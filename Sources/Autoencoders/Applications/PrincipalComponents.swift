import Foundation

/// Principal component analysis of n points in d dimensions, in Double.
///
/// The sample covariance C = (1/n) Σᵢ (xᵢ − m)(xᵢ − m)ᵀ is diagonalized by the cyclic Jacobi method: each
/// rotation in the (p, q) plane by the angle with tan 2θ = 2C_pq / (C_qq − C_pp) zeroes C_pq; sweeps over all
/// pairs repeat until the off-diagonal mass is below 10⁻²⁴ of the total (quadratic convergence, a few sweeps for the
/// latent sizes of this package). The eigenvectors, sorted by decreasing eigenvalue (the variance along them), are
/// the principal directions; a point projects to yₖ = uₖ·(x − m).
public struct PrincipalComponents: Sendable {
    /// The mean m of the points.
    public let mean: [Double]
    /// Unit principal directions u₁, u₂, … by decreasing variance (as many as asked for).
    public let components: [[Double]]
    /// The variance λₖ of the points along each direction (the covariance's eigenvalues), decreasing.
    public let variances: [Double]
    /// Total variance, trace C = Σ of all d eigenvalues.
    public let totalVariance: Double

    /// The first `count` principal components of `points` (whole rows of `dimension`).
    public init(points: [Float], dimension d: Int, count: Int) {
        self.init(rows: points.map(Double.init), dimension: d, count: count)
    }

    /// The first `count` principal components of `rows` (row-major, whole rows of `dimension`).
    public init(rows: [Double], dimension d: Int, count: Int) {
        precondition(d > 0 && rows.count % d == 0, "points must be whole rows of \(d)")
        let n = rows.count / d
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += rows[i * d + j] } }
        mean = mean.map { $0 / Double(max(n, 1)) }
        var covariance = [Double](repeating: 0, count: d * d)
        var centered = [Double](repeating: 0, count: d)
        for i in 0..<n {
            for j in 0..<d { centered[j] = rows[i * d + j] - mean[j] }
            for p in 0..<d {
                let x = centered[p]
                guard x != 0 else { continue }
                for q in p..<d { covariance[p * d + q] += x * centered[q] }
            }
        }
        for p in 0..<d {
            for q in p..<d {
                let value = covariance[p * d + q] / Double(max(n, 1))
                covariance[p * d + q] = value
                covariance[q * d + p] = value
            }
        }
        let (values, vectors) = Self.jacobiEigen(covariance, dimension: d)
        let order = values.indices.sorted { values[$0] > values[$1] }.prefix(max(0, min(count, d)))
        self.mean = mean
        self.variances = order.map { max(values[$0], 0) }
        self.components = order.map { k in (0..<d).map { vectors[$0 * d + k] } }
        self.totalVariance = values.reduce(0) { $0 + max($1, 0) }
    }

    /// The coordinates of row-major `rows` along the components, as an n × `components.count` row-major matrix.
    public func transform(_ rows: [Double]) -> [Double] {
        let d = mean.count
        precondition(rows.count % d == 0, "rows must be whole rows of \(d)")
        var out: [Double] = []
        out.reserveCapacity(rows.count / d * components.count)
        for i in 0..<(rows.count / d) {
            for u in components {
                var y = 0.0
                for j in 0..<d { y += u[j] * (rows[i * d + j] - mean[j]) }
                out.append(y)
            }
        }
        return out
    }

    /// The coordinates of each point (rows of the fitted dimension) along the components: n rows of
    /// `components.count` values, yₖ = uₖ·(x − m).
    public func project(_ points: [Float]) -> [[Double]] {
        let k = components.count, flat = transform(points.map(Double.init))
        return (0..<(flat.count / max(k, 1))).map { Array(flat[($0 * k)..<($0 * k + k)]) }
    }

    /// Eigenvalues and eigenvectors (column k of the row-major d × d result) of a symmetric matrix.
    public static func jacobiEigen(_ matrix: [Double], dimension d: Int) -> (values: [Double], vectors: [Double]) {
        var a = matrix
        var v = [Double](repeating: 0, count: d * d)
        for i in 0..<d { v[i * d + i] = 1 }
        let total = a.reduce(0) { $0 + $1 * $1 }
        for _ in 0..<100 {
            var off = 0.0
            for p in 0..<d { for q in (p + 1)..<d { off += 2 * a[p * d + q] * a[p * d + q] } }
            if off <= 1e-24 * total || off == 0 { break }
            for p in 0..<(d - 1) {
                for q in (p + 1)..<d {
                    let apq = a[p * d + q]
                    if apq == 0 { continue }
                    // t = tan θ, the smaller root of t² + 2τt − 1 = 0 with τ = (a_qq − a_pp) / (2 a_pq)
                    let tau = (a[q * d + q] - a[p * d + p]) / (2 * apq)
                    let t = (tau >= 0 ? 1 : -1) / (abs(tau) + (1 + tau * tau).squareRoot())
                    let c = 1 / (1 + t * t).squareRoot(), s = t * c
                    for k in 0..<d {
                        let akp = a[k * d + p], akq = a[k * d + q]
                        a[k * d + p] = c * akp - s * akq
                        a[k * d + q] = s * akp + c * akq
                    }
                    for k in 0..<d {
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
