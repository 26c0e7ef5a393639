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
                              count: indices.count, y: y.floats)
        switch x.buffer.dtype {
        case .uint8:
            let xv = UnsafePointer(x.bytes.assumingMemoryBound(to: UInt8.self))
            rows.run { first, row in StoredRow.convert(bytes: xv + first, count: cols, scale: scale, shift: shift, into: row) }
        case .float16:
            let xv = UnsafePointer(x.bytes.assumingMemoryBound(to: UInt16.self))
            rows.run { first, row in StoredRow.convert(halves: xv + first, count: cols, scale: scale, shift: shift, into: row) }
        case .float32:
            let xv = UnsafePointer(x.floats)
            rows.run { first, row in StoredRow.convert(floats: xv + first, count: cols, scale: scale, shift: shift, into: row) }
        case .int32:
            preconditionFailure("gatherRows converts uint8, float16 or float32 storage, not int32")
        }
    }
}

/// One gather's rows: row i of y is converted from the source row indices[i] (its first element's index is passed
/// on), or zeroed for an index outside the source; rows are spread over the cores.
private struct GatherRows {
    let sourceRows: Int
    let cols: Int
    let indices: UnsafeMutablePointer<Int32>
    let count: Int
    let y: UnsafeMutablePointer<Float>

    func run(_ convert: (_ first: Int, _ row: UnsafeMutablePointer<Float>) -> Void) {
        let cols = cols, sourceRows = sourceRows, indices = indices, y = y
        Parallel.forEach(count, costPerItem: cols) { i in
            let source = Int(indices[i]), row = y + i * cols
            if source >= 0 && source < sourceRows {
                convert(source * cols, row)
            } else {
                row.update(repeating: 0, count: cols)
            }
        }
    }
}

/// y[j] = Float(x[j]) · scale + shift over one stored row, a loop per storage type (each vectorizes). The product
/// and the sum are rounded separately, as on every device: Swift never contracts them into one FMA.
private enum StoredRow {
    static func convert(bytes x: UnsafePointer<UInt8>, count: Int, scale: Float, shift: Float,
                        into y: UnsafeMutablePointer<Float>) {
        for j in 0..<count { y[j] = Float(x[j]) * scale + shift }
    }

    static func convert(halves x: UnsafePointer<UInt16>, count: Int, scale: Float, shift: Float,
                        into y: UnsafeMutablePointer<Float>) {
        for j in 0..<count { y[j] = HalfPrecision.float(bits: x[j]) * scale + shift }
    }

    static func convert(floats x: UnsafePointer<Float>, count: Int, scale: Float, shift: Float,
                        into y: UnsafeMutablePointer<Float>) {
        for j in 0..<count { y[j] = x[j] * scale + shift }
    }
}
