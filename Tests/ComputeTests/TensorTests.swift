import Compute
import Testing
import TestSupport

@Suite struct TensorTests {
    @Test(arguments: TestDevices.selectors)
    func affineAndThreshold(selector: String) throws {
        let device = try TestDevices.device(selector)
        var rng = TestRandom(seed: 11)
        let x = rng.array(1031)
        let store = try device.makeBuffer([0] + x)
        let out = try device.makeBuffer(count: x.count, dtype: .float32)
        device.affine(store.slice(1, x.count), scale: -2, shift: 1, into: out.whole)
        #expect(mismatch(device.read(out.whole), x.map { -2 * Double($0) + 1 }) == nil)
        device.thresholdMask(store.slice(1, x.count), threshold: 0.25, into: out.whole)
        #expect(device.read(out.whole) == x.map { $0 >= 0.25 ? 1 : 0 })
        device.affine(out.whole, scale: 3, shift: 0, into: out.whole)
        #expect(device.read(out.whole) == x.map { $0 >= 0.25 ? 3 : 0 })
    }

    @Test(arguments: TestDevices.selectors, [false, true])
    func scaleRows(selector: String, divide: Bool) throws {
        let device = try TestDevices.device(selector)
        var rng = TestRandom(seed: 5)
        let (rows, cols) = (13, 37)
        let x = rng.array(rows * cols), s = rng.array(rows, 0.5, 2), y0 = rng.array(rows * cols)
        let dx = try device.makeBuffer(x), ds = try device.makeBuffer(s), dy = try device.makeBuffer(y0)
        func expected(accumulate: Bool, base: [Float]) -> [Double] {
            (0..<(rows * cols)).map { i in
                let v = divide ? Double(x[i]) / Double(s[i / cols]) : Double(x[i]) * Double(s[i / cols])
                return accumulate ? Double(base[i]) + v : v
            }
        }
        device.scaleRows(dx.whole, by: ds.whole, rows: rows, cols: cols, divide: divide, into: dy.whole, accumulate: true)
        let accumulated = device.read(dy.whole)
        #expect(mismatch(accumulated, expected(accumulate: true, base: y0)) == nil)
        device.scaleRows(dx.whole, by: ds.whole, rows: rows, cols: cols, divide: divide, into: dy.whole, accumulate: false)
        #expect(mismatch(device.read(dy.whole), expected(accumulate: false, base: y0)) == nil)
    }
}
