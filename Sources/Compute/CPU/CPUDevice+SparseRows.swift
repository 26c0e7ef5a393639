extension CPUDevice: SparseRowPrimitives {
    public func compactRows(_ z: BufferSlice, rows: Int, cols: Int, capacity: Int, indices: BufferSlice, values: BufferSlice) {
        check(z, count: rows * cols)
        checkCompacted(indices, values, rows: rows, capacity: capacity)
        let zp = z.floats, ip = indices.ints, vp = values.floats
        Parallel.forEach(rows, costPerItem: cols) { r in
            var t = 0
            let row = zp + r * cols, slots = r * capacity
            for c in 0..<cols where row[c] != 0 && t < capacity {
                ip[slots + t] = Int32(c)
                vp[slots + t] = row[c]
                t += 1
            }
            for s in t..<capacity {
                ip[slots + s] = 0
                vp[slots + s] = 0
            }
        }
    }

    public func gatheredRowsProduct(indices: BufferSlice, values: BufferSlice, rows: Int, capacity: Int, table: BufferSlice,
                                    width: Int, into y: BufferSlice, alpha: Float, beta: Float) {
        checkCompacted(indices, values, rows: rows, capacity: capacity)
        check(y, count: rows * width)
        precondition(table.count % max(width, 1) == 0, "gatheredRowsProduct: a table of \(table.count) values is not rows of \(width)")
        let ip = indices.ints, vp = values.floats, tp = table.floats, yp = y.floats
        let tableRows = table.count / max(width, 1)
        Parallel.forEach(rows, costPerItem: capacity * width) { r in
            let out = yp + r * width
            if beta == 0 {
                out.update(repeating: 0, count: width)
            } else if beta != 1 {
                for c in 0..<width { out[c] *= beta }
            }
            for t in 0..<capacity {
                let v = alpha * vp[r * capacity + t]
                guard v != 0 else { continue }
                let j = Int(ip[r * capacity + t])
                precondition(j >= 0 && j < tableRows, "gatheredRowsProduct: index \(j) outside \(tableRows) rows")
                Self.addScaled(tp + j * width, v, into: out, width)
            }
        }
    }

    public func gatheredRowsDots(_ x: BufferSlice, indices: BufferSlice, values: BufferSlice, rows: Int, capacity: Int,
                                 table: BufferSlice, width: Int, into dots: BufferSlice) {
        check(x, count: rows * width)
        checkCompacted(indices, values, rows: rows, capacity: capacity)
        check(dots, count: rows * capacity)
        let xp = x.floats, ip = indices.ints, vp = values.floats, tp = table.floats, dp = dots.floats
        let tableRows = table.count / max(width, 1)
        Parallel.forEach(rows, costPerItem: capacity * width) { r in
            for t in 0..<capacity {
                let slot = r * capacity + t
                guard vp[slot] != 0 else {
                    dp[slot] = 0
                    continue
                }
                let j = Int(ip[slot])
                precondition(j >= 0 && j < tableRows, "gatheredRowsDots: index \(j) outside \(tableRows) rows")
                dp[slot] = Self.dot(xp + r * width, tp + j * width, width)
            }
        }
    }

    public func scatteredRowsProduct(indices: BufferSlice, values: BufferSlice, rows: Int, capacity: Int, x: BufferSlice,
                                     width: Int, into table: BufferSlice, tableRows: Int, bias: BufferSlice?) {
        checkCompacted(indices, values, rows: rows, capacity: capacity)
        check(x, count: rows * width)
        check(table, count: tableRows * width)
        if let bias { check(bias, count: tableRows) }
        let ip = indices.ints, vp = values.floats, xp = x.floats, tp = table.floats, bp = bias?.floats
        // each task owns a range of table rows and adds in (r, t) order, so every sum has one order
        Parallel.chunks(tableRows, grain: rows * capacity * width >= 65_536 ? 1 : max(tableRows, 1)) { owned in
            for slot in 0..<(rows * capacity) {
                let v = vp[slot], j = Int(ip[slot])
                guard v != 0, owned.contains(j) else { continue }
                Self.addScaled(xp + (slot / capacity) * width, v, into: tp + j * width, width)
                bp?[j] += v
            }
        }
    }

    public func expandRows(indices: BufferSlice, values: BufferSlice, rows: Int, capacity: Int, cols: Int, into z: BufferSlice,
                           accumulate: Bool) {
        checkCompacted(indices, values, rows: rows, capacity: capacity)
        check(z, count: rows * cols)
        let ip = indices.ints, vp = values.floats, zp = z.floats
        Parallel.forEach(rows, costPerItem: accumulate ? capacity : cols) { r in
            let row = zp + r * cols
            if !accumulate { row.update(repeating: 0, count: cols) }
            for t in 0..<capacity where vp[r * capacity + t] != 0 {
                let j = Int(ip[r * capacity + t])
                precondition(j >= 0 && j < cols, "expandRows: index \(j) outside \(cols) columns")
                row[j] += vp[r * capacity + t]
            }
        }
    }

    public func transpose(_ a: BufferSlice, rows: Int, cols: Int, into b: BufferSlice, accumulate: Bool) {
        check(a, count: rows * cols)
        check(b, count: rows * cols)
        let ap = a.floats, bp = b.floats
        let block = 32
        // blocks of 32 output rows per task, read in 32×32 tiles so both sides stay in cache
        Parallel.forEach((cols + block - 1) / block, costPerItem: block * rows) { tile in
            let c0 = tile * block, c1 = min(cols, c0 + block)
            var r0 = 0
            while r0 < rows {
                let r1 = min(rows, r0 + block)
                for c in c0..<c1 {
                    let out = bp + c * rows
                    for r in r0..<r1 {
                        out[r] = accumulate ? out[r] + ap[r * cols + c] : ap[r * cols + c]
                    }
                }
                r0 = r1
            }
        }
    }

    private func checkCompacted(_ indices: BufferSlice, _ values: BufferSlice, rows: Int, capacity: Int) {
        precondition(indices.buffer.dtype == .int32, "compacted rows' indices are int32")
        check(indices, count: rows * capacity)
        check(values, count: rows * capacity)
    }

    /// y[0..<n] += s·x[0..<n], eight lanes at a time.
    @inline(__always)
    static func addScaled(_ x: UnsafePointer<Float>, _ s: Float, into y: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        let scale = SIMD8<Float>(repeating: s)
        while i + 8 <= n {
            let a = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            let b = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: b + scale * a, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            y[i] += s * x[i]
            i += 1
        }
    }
}
