/// Row gathers: a batch drawn from a data set on the device, copied as stored or converted to `float32`.
extension CPUDevice {
    public func gatherRows(_ x: BufferSlice, indices: BufferSlice, cols: Int, into y: BufferSlice) {
        precondition(indices.buffer.dtype == .int32, "gatherRows indices must be an int32 view")
        precondition(cols > 0 ? x.count % cols == 0 : x.count == 0, "gatherRows source is not a whole number of rows")
        check(x, count: x.count)
        check(indices, count: indices.count)
        check(y, count: indices.count * cols)
        let sourceRows = cols > 0 ? x.count / cols : 0
        let xv = x.floats, index = indices.ints, yv = y.floats
        Parallel.forEach(indices.count, costPerItem: cols) { i in
            let source = Int(index[i]), destination = yv + i * cols
            if source >= 0 && source < sourceRows {
                destination.update(from: xv + source * cols, count: cols)
            } else {
                destination.update(repeating: 0, count: cols)
            }
        }
    }

    public func gatherRows(_ x: BufferSlice, indices: BufferSlice, cols: Int, scale: Float, shift: Float,
                           into y: BufferSlice) {
        precondition(indices.buffer.dtype == .int32, "gatherRows indices must be an int32 view")
        precondition(y.buffer.dtype == .float32, "gatherRows converts into a float32 view, not \(y.buffer.dtype)")
        precondition(cols > 0 ? x.count % cols == 0 : x.count == 0, "gatherRows source is not a whole number of rows")
        check(x, count: x.count)
        check(indices, count: indices.count)
        check(y, count: indices.count * cols)
        let rows = GatherRows(sourceRows: cols > 0 ? x.count / cols : 0, cols: cols, indices: indices.ints,
                              count: indices.count, y: y.floats, scale: scale, shift: shift)
        switch x.buffer.dtype {
        case .uint8:
            let xv = x.bytes.assumingMemoryBound(to: UInt8.self)
            rows.run { Float(xv[$0]) }
        case .float16:
            let xv = x.bytes.assumingMemoryBound(to: UInt16.self)
            rows.run { HalfPrecision.float(bits: xv[$0]) }
        case .float32:
            let xv = x.floats
            rows.run { xv[$0] }
        case .int32:
            preconditionFailure("gatherRows converts uint8, float16 or float32 storage, not int32")
        }
    }
}

/// One converting gather's operands: y[i, j] = element(indices[i]·cols + j) · scale + shift, zero rows for indices
/// outside the source, rows spread over the cores.
private struct GatherRows {
    let sourceRows: Int
    let cols: Int
    let indices: UnsafeMutablePointer<Int32>
    let count: Int
    let y: UnsafeMutablePointer<Float>
    let scale: Float
    let shift: Float

    @inline(__always)
    func run(_ element: (Int) -> Float) {
        let cols = cols, scale = scale, shift = shift, sourceRows = sourceRows, indices = indices, y = y
        Parallel.forEach(count, costPerItem: cols) { i in
            let source = Int(indices[i]), destination = y + i * cols
            guard source >= 0 && source < sourceRows else {
                destination.update(repeating: 0, count: cols)
                return
            }
            let first = source * cols
            for j in 0..<cols {
                // two roundings, as on every device: Swift never contracts a product and a sum into one FMA
                let scaled = element(first + j) * scale
                destination[j] = scaled + shift
            }
        }
    }
}
