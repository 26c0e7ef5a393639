extension CPUDevice: TensorPrimitives {
    public func affine(_ x: BufferSlice, scale: Float, shift: Float, into y: BufferSlice) {
        check(x, count: y.count)
        let xp = x.floats, yp = y.floats
        Parallel.chunks(x.count) { range in
            for i in range { yp[i] = scale * xp[i] + shift }
        }
    }

    public func thresholdMask(_ x: BufferSlice, threshold: Float, into y: BufferSlice) {
        check(x, count: y.count)
        let xp = x.floats, yp = y.floats
        Parallel.chunks(x.count) { range in
            for i in range { yp[i] = xp[i] >= threshold ? 1 : 0 }
        }
    }

    public func scaleRows(_ x: BufferSlice, by s: BufferSlice, rows: Int, cols: Int, divide: Bool, into y: BufferSlice,
                          accumulate: Bool) {
        check(x, count: rows * cols)
        check(y, count: rows * cols)
        check(s, count: rows)
        let xp = x.floats, yp = y.floats, sp = s.floats
        Parallel.forEach(rows, costPerItem: cols) { i in
            let factor = divide ? 1 / sp[i] : sp[i]
            let xr = xp + i * cols, yr = yp + i * cols
            if accumulate {
                for j in 0..<cols { yr[j] += xr[j] * factor }
            } else {
                for j in 0..<cols { yr[j] = xr[j] * factor }
            }
        }
    }
}
