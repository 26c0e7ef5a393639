extension CPUDevice: ElementwisePrimitives {
    public func activate(_ x: BufferSlice, into y: BufferSlice, activation: Activation) {
        check(x, count: y.count)
        check(y, count: x.count)
        let xv = x.floats, yv = y.floats
        switch activation {
        case .identity:
            if xv != yv { Parallel.chunks(x.count) { range in for i in range { yv[i] = xv[i] } } }
        case .relu:
            Parallel.chunks(x.count) { range in for i in range { yv[i] = max(xv[i], 0) } }
        case .leakyRelu(let slope):
            Parallel.chunks(x.count) { range in for i in range { yv[i] = xv[i] > 0 ? xv[i] : slope * xv[i] } }
        default:
            Parallel.chunks(x.count, grain: 4096) { range in
                for i in range { yv[i] = ActivationMath.apply(xv[i], activation) }
            }
        }
    }

    public func activationBackward(_ dy: BufferSlice, input x: BufferSlice, output y: BufferSlice,
                                   into dx: BufferSlice, activation: Activation, accumulate: Bool) {
        let n = dx.count
        check(dy, count: n)
        check(x, count: n)
        check(y, count: n)
        check(dx, count: n)
        let g = dy.floats, xv = x.floats, yv = y.floats, d = dx.floats
        Parallel.chunks(n, grain: 8192) { range in
            switch (activation, accumulate) {
            // ReLU in its own loops, which vectorize
            case (.relu, false): for i in range { d[i] = g[i] * (yv[i] > 0 ? 1 : 0) }
            case (.relu, true): for i in range { d[i] += g[i] * (yv[i] > 0 ? 1 : 0) }
            case (_, true): for i in range { d[i] += g[i] * ActivationMath.derivative(xv[i], yv[i], activation) }
            case (_, false): for i in range { d[i] = g[i] * ActivationMath.derivative(xv[i], yv[i], activation) }
            }
        }
    }

    public func axpby(alpha: Float, _ x: BufferSlice, beta: Float, _ y: BufferSlice) {
        check(x, count: y.count)
        check(y, count: x.count)
        let xv = x.floats, yv = y.floats
        Parallel.chunks(x.count) { range in
            if beta == 0 {
                for i in range { yv[i] = alpha * xv[i] }
            } else {
                for i in range { yv[i] = alpha * xv[i] + beta * yv[i] }
            }
        }
    }

    public func multiply(_ a: BufferSlice, _ b: BufferSlice, into c: BufferSlice) {
        check(a, count: c.count)
        check(b, count: c.count)
        check(c, count: a.count)
        let av = a.floats, bv = b.floats, cv = c.floats
        Parallel.chunks(c.count) { range in for i in range { cv[i] = av[i] * bv[i] } }
    }

    public func topK(_ x: BufferSlice, into y: BufferSlice, rows: Int, cols: Int, k: Int) {
        check(x, count: rows * cols)
        check(y, count: rows * cols)
        let xv = x.floats, yv = y.floats
        if k >= cols {
            if xv != yv { Parallel.chunks(rows * cols) { range in for i in range { yv[i] = xv[i] } } }
            return
        }
        if k <= 0 {
            Parallel.chunks(rows * cols) { range in for i in range { yv[i] = 0 } }
            return
        }
        Parallel.forEach(rows, costPerItem: 5 * cols) { row in
            TopKSelection.keepLargest(xv + row * cols, into: yv + row * cols, count: cols, k: k)
        }
    }

    public func maskedGradient(_ dy: BufferSlice, mask: BufferSlice, into dx: BufferSlice) {
        check(dy, count: dx.count)
        check(mask, count: dx.count)
        check(dx, count: dy.count)
        let g = dy.floats, m = mask.floats, d = dx.floats
        Parallel.chunks(dx.count) { range in for i in range { d[i] = m[i] != 0 ? g[i] : 0 } }
    }
}

/// Top-k of one row by radix selection, the algorithm of `top_k_rows` in `Kernels/elementwise.cl`.
enum TopKSelection {
    /// A key whose unsigned order is the float order: −0 and +0 are equal, NaN ranks above +∞.
    @inline(__always)
    static func key(_ v: Float) -> UInt32 {
        let u = v.bitPattern
        if u << 1 == 0 { return 0x8000_0000 }
        return u & 0x8000_0000 != 0 ? ~u : u | 0x8000_0000
    }

    /// y = x where x is among the `k` largest of the `count` values (ties to the lower index), else 0.
    /// Requires 0 < k < count; `y` may be `x`.
    ///
    /// Four passes of an 8-bit radix select find the k-th largest key T and how many keys equal to T are
    /// kept (`remaining`); a last pass keeps every key above T and the first `remaining` keys equal to it.
    static func keepLargest(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int, k: Int) {
        var prefix: UInt32 = 0, mask: UInt32 = 0
        var remaining = k
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 256) { histogram in
            let hist = histogram.baseAddress!
            for shift in stride(from: UInt32(24), through: 0, by: -8) {
                hist.initialize(repeating: 0, count: 256)
                for j in 0..<count {
                    let key = key(x[j])
                    if key & mask == prefix { hist[Int((key >> shift) & 255)] += 1 }
                }
                var digit = 255
                while digit > 0 && hist[digit] < remaining {
                    remaining -= hist[digit]
                    digit -= 1
                }
                prefix |= UInt32(digit) << shift
                mask |= 255 << shift
            }
        }
        for j in 0..<count {
            let v = x[j], key = key(v)
            var keep = key > prefix
            if key == prefix && remaining > 0 {
                keep = true
                remaining -= 1
            }
            y[j] = keep ? v : 0
        }
    }
}
