@testable import Compute
import Testing
import TestSupport

/// The first element whose bits differ from the reference's (two NaNs match, whatever their payloads), or nil.
func bitMismatch(_ actual: [Float], _ expected: [Float]) -> String? {
    guard actual.count == expected.count else { return "count \(actual.count) != \(expected.count)" }
    for i in actual.indices where !(actual[i].isNaN && expected[i].isNaN) && actual[i].bitPattern != expected[i].bitPattern {
        return "element \(i): \(actual[i]) (0x\(String(actual[i].bitPattern, radix: 16))) vs expected \(expected[i]) "
            + "(0x\(String(expected[i].bitPattern, radix: 16)))"
    }
    return nil
}

/// `gatherRows(_:indices:cols:scale:shift:into:)` from `uint8`, `float16` and `float32` storage against plain Swift:
/// y = Float(x)·scale + shift with two roundings, bit for bit on every device.
@Suite struct ConvertingGatherTests {
    /// (scale, shift) pairs: images to [0, 1]; to [−1, 1] (a shift whose sum a fused multiply-add would round
    /// otherwise); as stored; and a −0 shift, which keeps a stored −0 negative.
    static let affines: [(scale: Float, shift: Float)] = [(1 / 255, 0), (2 / 255, -1), (1, 0), (1, -0.0), (0.37, 0.25)]

    /// Source rows, repeated, first and last, and two out of range (zero rows).
    static func indexPattern(rows: Int) -> [Int32] {
        [Int32(rows - 1), 0, 2 % Int32(rows), Int32(rows - 1), 1 % Int32(rows), 1 % Int32(rows), -1, Int32(rows), 0, Int32(rows - 1)]
    }

    /// y[i, :] = element(x[indices[i], :])·scale + shift in Swift, zeros for indices outside `rows`.
    static func reference(rows: Int, cols: Int, indices: [Int32], scale: Float, shift: Float,
                          _ element: (Int) -> Float) -> [Float] {
        indices.flatMap { index -> [Float] in
            guard index >= 0 && Int(index) < rows else { return [Float](repeating: 0, count: cols) }
            return (0..<cols).map { j in
                let scaled = element(Int(index) * cols + j) * scale
                return scaled + shift
            }
        }
    }

    /// Gathers `indices` from `storage` (elements of `dtype`, `rows`×`cols`) placed 5 elements into a buffer, into
    /// a NaN-padded float view, and checks the result and the padding.
    static func check(_ device: any Device, _ selector: String, storage: [UInt8], dtype: DType, rows: Int, cols: Int,
                      indices: [Int32], element: (Int) -> Float, label: String) throws {
        let padding = [UInt8](repeating: 0xA5, count: 5 * dtype.size)
        let source = try device.makeBuffer(bytes: padding + storage + padding, dtype: dtype)
        let x = source.slice(5, rows * cols)
        let indexStore = try device.makeBuffer([Int32(77), 77] + indices)
        for (scale, shift) in affines {
            let (store, y) = try paddedBuffer(device, [Float](repeating: .nan, count: indices.count * cols), offset: 3)
            device.gatherRows(x, indices: indexStore.slice(2, indices.count), cols: cols, scale: scale, shift: shift, into: y)
            let expected = reference(rows: rows, cols: cols, indices: indices, scale: scale, shift: shift, element)
            let problem = bitMismatch(device.read(y), expected)
            #expect(problem == nil, "\(selector) \(label) cols=\(cols) scale=\(scale) shift=\(shift): \(problem ?? "")")
            #expect(paddingIntact(device, store, y), "\(selector) \(label) writes outside its view")
        }
        try device.checkHealth()
    }

    @Test(arguments: TestDevices.selectors)
    func uint8RowsConvertEveryValueExactly(selector: String) throws {
        let device = try TestDevices.device(selector)
        // every byte value 0…255: 256 rows of 1, all gathered; then rows of 3 and 784
        for cols in [1, 3, 784] {
            let rows = cols == 1 ? 256 : 7
            let bytes = (0..<(rows * cols)).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ $0 / 256) }
            let indices = cols == 1 ? (0..<256).map(Int32.init) + Self.indexPattern(rows: rows) : Self.indexPattern(rows: rows)
            try Self.check(device, selector, storage: bytes, dtype: .uint8, rows: rows, cols: cols, indices: indices,
                           element: { Float(bytes[$0]) }, label: "uint8")
        }
    }

    @Test(arguments: TestDevices.selectors)
    func float16RowsConvertEveryHalfExactly(selector: String) throws {
        let device = try TestDevices.device(selector)
        // all 65,536 bit patterns (±0, subnormals, 65504, ±∞, NaNs among them) as 256 rows of 256
        let halves = (0...UInt16.max).map { $0 }
        let bytes = halves.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        try Self.check(device, selector, storage: bytes, dtype: .float16, rows: 256, cols: 256,
                       indices: (0..<256).map(Int32.init).reversed() + Self.indexPattern(rows: 256),
                       element: { Float(Float16(bitPattern: halves[$0])) }, label: "float16 all patterns")
        // the specials, in rows of 1, 3 and 784
        let specials: [UInt16] = [0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x3C00, 0xC000, 0x7BFF, 0xFBFF,
                                  0x7C00, 0xFC00, 0x7E00, 0x7C01, 0xFE00, 0x3555]
        for cols in [1, 3, 784] {
            let rows = max(3, (specials.count + cols - 1) / cols)
            let stored = (0..<(rows * cols)).map { specials[$0 % specials.count] }
            try Self.check(device, selector, storage: stored.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }, dtype: .float16,
                           rows: rows, cols: cols, indices: Self.indexPattern(rows: rows),
                           element: { Float(Float16(bitPattern: stored[$0])) }, label: "float16 specials")
        }
    }

    @Test(arguments: TestDevices.selectors)
    func float32RowsAreScaledAndShifted(selector: String) throws {
        let device = try TestDevices.device(selector)
        var rng = TestRandom(seed: 41)
        let specials: [Float] = [0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, -.leastNormalMagnitude,
                                 .greatestFiniteMagnitude, 1, 255]
        for cols in [1, 3, 784] {
            let rows = 5
            let values = (0..<(rows * cols)).map { $0 < specials.count ? specials[$0] : rng.uniform(-4, 4) }
            try Self.check(device, selector, storage: values.withUnsafeBytes { Array($0) }, dtype: .float32,
                           rows: rows, cols: cols, indices: Self.indexPattern(rows: rows), element: { values[$0] },
                           label: "float32")
        }
    }

    @Test(arguments: TestDevices.selectors)
    func plainGatherStaysAnExactCopy(selector: String) throws {
        // why the float32 gather is kept apart: x·1 + 0 turns −0 into +0, a copy does not
        let device = try TestDevices.device(selector)
        let values: [Float] = [-0.0, 1, Float(bitPattern: 0x7FC0_1234), .leastNonzeroMagnitude]
        let x = try device.makeBuffer(values)
        let indices = try device.makeBuffer([Int32(0), 1, 2, 3])
        let copied = try device.makeBuffer(count: 4, dtype: .float32), converted = try device.makeBuffer(count: 4, dtype: .float32)
        device.gatherRows(x.whole, indices: indices.whole, cols: 1, into: copied.whole)
        device.gatherRows(x.whole, indices: indices.whole, cols: 1, scale: 1, shift: 0, into: converted.whole)
        #expect(device.read(copied.whole).map(\.bitPattern) == values.map(\.bitPattern), "\(selector)")
        #expect(device.read(converted.whole)[0].bitPattern == Float(0).bitPattern, "\(selector)")
    }

    @Test func hostHalfConversionMatchesFloat16ForEveryPattern() {
        for bits in 0...UInt16.max {
            let expected = Float(Float16(bitPattern: bits)), actual = HalfPrecision.float(bits: bits)
            #expect(actual.bitPattern == expected.bitPattern || (actual.isNaN && expected.isNaN
                        && actual.sign == expected.sign), "0x\(String(bits, radix: 16)): \(actual) vs \(expected)")
        }
    }

    @Test func ptxasAssemblesTheConvertingGathersAtTheirLaunchedSize() throws {
        let reduce = try #require(KernelBuild.nvidia.first { $0.family == "reduce" })
        for dtype in [DType.uint8, .float16, .float32] {
            let kernel = OpenCLDevice.convertingGather(from: dtype)
            #expect(reduce.kernels.contains(kernel), "\(kernel) is not in the reduce family ptxas assembles")
            #expect(reduce.workGroups[kernel] == .fixed(OpenCLDevice.reductionGroup), "\(kernel)")
        }
    }

    @Test(arguments: TestDevices.selectors)
    func emptyGathersWriteNothing(selector: String) throws {
        let device = try TestDevices.device(selector)
        let x = try device.makeBuffer(count: 6, dtype: .uint8)
        let indices = try device.makeBuffer(count: 0, dtype: .int32)
        let y = try device.makeBuffer([Float.nan])
        device.gatherRows(x.whole, indices: indices.slice(0, 0), cols: 3, scale: 1, shift: 0, into: y.slice(0, 0))
        #expect(device.read(y.whole)[0].isNaN)
        try device.checkHealth()
    }
}
