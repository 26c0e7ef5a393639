import Compute
import Testing
import TestSupport

/// Buffers of every element type: the bytes they take, and the host writes, reads and device copies of raw storage,
/// with views whose offsets and counts are in elements of their type.
///
/// The tests that count activity open their own device, since the shared test devices count the work of tests
/// running beside them.
@Suite struct StorageBufferTests {
    @Test func elementSizes() {
        #expect(DType.allCases.map(\.size) == [4, 4, 1, 2])
    }

    @Test(arguments: TestDevices.selectors)
    func buffersTakeTheBytesOfTheirType(selector: String) throws {
        let device = try Devices.open(DeviceSelection(parsing: selector))
        for dtype in DType.allCases {
            for count in [1, 3, 4, 1000, 60_000 * 784 / 100] {
                let before = device.activity
                let buffer = try device.makeBuffer(count: count, dtype: dtype)
                let allocated = device.activity - before
                let expected = (count * dtype.size + 3) / 4 * 4
                #expect(allocated.allocations == 1 && allocated.allocatedBytes == expected,
                        "\(selector) \(dtype) × \(count): \(allocated.allocatedBytes) bytes, expected \(expected)")
                #expect(buffer.count == count && buffer.dtype == dtype)
                // a new buffer reads back as zeros, as many bytes as its elements take
                let bytes = device.readBytes(buffer.whole)
                #expect(bytes.count == count * dtype.size && bytes.allSatisfy { $0 == 0 }, "\(selector) \(dtype) × \(count)")
            }
        }
        // a uint8 data set of N elements takes N bytes, a quarter of its float32 copy
        let before = device.activity
        _ = try device.makeBuffer(count: 47_040, dtype: .uint8)
        _ = try device.makeBuffer(count: 47_040, dtype: .float32)
        let both = device.activity - before
        #expect(both.allocatedBytes == 47_040 * 5, "\(selector)")
    }

    @Test(arguments: TestDevices.selectors, [DType.uint8, .float16, .float32, .int32])
    func rawWritesAndReadsMoveTheStoredBytesOfAView(selector: String, dtype: DType) throws {
        let device = try Devices.open(DeviceSelection(parsing: selector))
        let size = dtype.size, count = 23, offset = 5, length = 11
        let buffer = try device.makeBuffer(count: count, dtype: dtype)
        let payload = (0..<(length * size)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let before = device.activity
        payload.withUnsafeBytes { device.write($0, to: buffer.slice(offset, length)) }
        let back = device.readBytes(buffer.slice(offset, length))
        let moved = device.activity - before
        #expect(back == payload, "\(selector) \(dtype)")
        #expect(moved.writes == 1 && moved.writtenBytes == length * size && moved.reads == 1 && moved.readBytes == length * size,
                "\(selector) \(dtype): \(moved)")
        // the offset counts elements of the view's type: the bytes before and after the view are untouched
        let whole = device.readBytes(buffer.whole)
        let expected = [UInt8](repeating: 0, count: offset * size) + payload
            + [UInt8](repeating: 0, count: (count - offset - length) * size)
        #expect(whole == expected, "\(selector) \(dtype)")
        // a copy between views of the same type at other offsets moves the same bytes
        let other = try device.makeBuffer(count: count, dtype: dtype)
        device.copy(buffer.slice(offset, length), to: other.slice(2, length))
        #expect(device.readBytes(other.slice(2, length)) == payload, "\(selector) \(dtype) copy")
        #expect(device.readBytes(other.slice(0, 2)).allSatisfy { $0 == 0 }, "\(selector) \(dtype) copy writes outside")
        // an empty write or read moves nothing and is not counted
        let idle = device.activity
        device.write(UnsafeRawBufferPointer(start: nil, count: 0), to: buffer.slice(0, 0))
        #expect(device.readBytes(buffer.slice(count, 0)).isEmpty)
        #expect((device.activity - idle).writes == 0 && (device.activity - idle).reads == 0)
        try device.checkHealth()
    }

    @Test(arguments: TestDevices.selectors)
    func rawFloatStorageIsTheFloatsBitForBit(selector: String) throws {
        let device = try TestDevices.device(selector)
        let values: [Float] = [1, -0.0, .infinity, -.greatestFiniteMagnitude, .leastNonzeroMagnitude, 0.1, -3.5]
        let buffer = try device.makeBuffer(bytes: values.withUnsafeBytes { Array($0) }, dtype: .float32)
        #expect(device.read(buffer.whole).map(\.bitPattern) == values.map(\.bitPattern), "\(selector)")
        let written = try device.makeBuffer(values)
        #expect(device.readBytes(written.whole) == values.withUnsafeBytes { Array($0) }, "\(selector)")
    }
}
