import Foundation

/// Plain double-precision references for the layers' forward passes.
enum Reference {
    /// y[r, o] = Σ_i x[r, i]·w[o, i] + b[o].
    static func linear(_ x: [Float], weight: [Float], bias: [Float]?, rows: Int, inFeatures: Int, outFeatures: Int) -> [Double] {
        var y = [Double](repeating: 0, count: rows * outFeatures)
        for r in 0..<rows {
            for o in 0..<outFeatures {
                var s = bias.map { Double($0[o]) } ?? 0
                for i in 0..<inFeatures { s += Double(x[r * inFeatures + i]) * Double(weight[o * inFeatures + i]) }
                y[r * outFeatures + o] = s
            }
        }
        return y
    }

    /// y[n,o,i,j] = Σ w[o,c,u,v]·x[n,c,i·s−p+u, j·s−p+v] + b[o].
    static func conv2d(_ x: [Float], weight: [Float], bias: [Float]?, n: Int, c: Int, h: Int, w: Int, o: Int,
                       k: (Int, Int), s: (Int, Int), p: (Int, Int)) -> [Double] {
        let ho = (h + 2 * p.0 - k.0) / s.0 + 1, wo = (w + 2 * p.1 - k.1) / s.1 + 1
        var y = [Double](repeating: 0, count: n * o * ho * wo)
        for b in 0..<n {
            for oc in 0..<o {
                for i in 0..<ho {
                    for j in 0..<wo {
                        var sum = bias.map { Double($0[oc]) } ?? 0
                        for ic in 0..<c {
                            for u in 0..<k.0 {
                                for v in 0..<k.1 {
                                    let yy = i * s.0 - p.0 + u, xx = j * s.1 - p.1 + v
                                    guard yy >= 0, yy < h, xx >= 0, xx < w else { continue }
                                    sum += Double(weight[((oc * c + ic) * k.0 + u) * k.1 + v]) * Double(x[((b * c + ic) * h + yy) * w + xx])
                                }
                            }
                        }
                        y[((b * o + oc) * ho + i) * wo + j] = sum
                    }
                }
            }
        }
        return y
    }

    /// PyTorch's ConvTranspose2d: every x[n,c,i,j] scatters x·w[c,o,u,v] to y[n,o,i·s−p+u, j·s−p+v]; plus b[o].
    static func convTranspose2d(_ x: [Float], weight: [Float], bias: [Float]?, n: Int, c: Int, h: Int, w: Int, o: Int,
                                k: (Int, Int), s: (Int, Int), p: (Int, Int), op: (Int, Int)) -> [Double] {
        let ho = (h - 1) * s.0 - 2 * p.0 + k.0 + op.0, wo = (w - 1) * s.1 - 2 * p.1 + k.1 + op.1
        var y = [Double](repeating: 0, count: n * o * ho * wo)
        for b in 0..<n {
            for oc in 0..<o {
                let b0 = bias.map { Double($0[oc]) } ?? 0
                for q in 0..<(ho * wo) { y[(b * o + oc) * ho * wo + q] = b0 }
            }
            for ic in 0..<c {
                for i in 0..<h {
                    for j in 0..<w {
                        let xv = Double(x[((b * c + ic) * h + i) * w + j])
                        for oc in 0..<o {
                            for u in 0..<k.0 {
                                for v in 0..<k.1 {
                                    let yy = i * s.0 - p.0 + u, xx = j * s.1 - p.1 + v
                                    guard yy >= 0, yy < ho, xx >= 0, xx < wo else { continue }
                                    y[((b * o + oc) * ho + yy) * wo + xx] += xv * Double(weight[((ic * o + oc) * k.0 + u) * k.1 + v])
                                }
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    /// Batch norm of x [N, C, S]: with the batch's (biased) statistics, or with given ones.
    static func batchNorm(_ x: [Float], gamma: [Float], beta: [Float], n: Int, c: Int, s: Int, eps: Double,
                          statistics: (mean: [Double], variance: [Double])? = nil) -> (y: [Double], mean: [Double], unbiased: [Double]) {
        var y = [Double](repeating: 0, count: x.count)
        var means = [Double](repeating: 0, count: c), unbiased = [Double](repeating: 0, count: c)
        for ch in 0..<c {
            var values: [Double] = []
            for b in 0..<n { for q in 0..<s { values.append(Double(x[(b * c + ch) * s + q])) } }
            let m = values.reduce(0, +) / Double(values.count)
            let ss = values.reduce(0) { $0 + ($1 - m) * ($1 - m) }
            means[ch] = m
            unbiased[ch] = ss / Double(max(values.count - 1, 1))
            let (mean, variance) = statistics.map { ($0.mean[ch], $0.variance[ch]) } ?? (m, ss / Double(values.count))
            for b in 0..<n {
                for q in 0..<s {
                    let i = (b * c + ch) * s + q
                    y[i] = Double(gamma[ch]) * (Double(x[i]) - mean) / (variance + eps).squareRoot() + Double(beta[ch])
                }
            }
        }
        return (y, means, unbiased)
    }
}
