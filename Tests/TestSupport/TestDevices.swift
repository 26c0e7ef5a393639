import Compute
import Foundation

/// The devices every test runs on: the CPU backend and each OpenCL device found (PoCL in CI).
///
/// With `CI=true` at least one OpenCL device is required: `selectors` then always names `opencl:0`, so
/// a CI machine without OpenCL fails the tests instead of skipping them.
public enum TestDevices {
    /// `cpu` and `opencl:N` for every OpenCL device.
    public static let selectors: [String] = {
        let found = Devices.available().map(\.selector)
        let ci = ProcessInfo.processInfo.environment["CI"] == "true"
        if ci && !found.contains("opencl:0") { return found + ["opencl:0"] }
        return found
    }()

    private static let lock = NSLock()
    nonisolated(unsafe) private static var opened: [String: any Device] = [:]

    /// The device for a selector, opened once and shared by every test.
    public static func device(_ selector: String) throws -> any Device {
        lock.lock()
        defer { lock.unlock() }
        if let device = opened[selector] { return device }
        let device = try Devices.open(DeviceSelection(parsing: selector))
        opened[selector] = device
        return device
    }
}

/// A seeded generator for test inputs (SplitMix64), so failures reproduce.
public struct TestRandom {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Float = -1, _ high: Float = 1) -> Float {
        low + (high - low) * Float(next() >> 40) / Float(1 << 24)
    }

    /// `count` uniform draws.
    public mutating func array(_ count: Int, _ low: Float = -1, _ high: Float = 1) -> [Float] {
        (0..<count).map { _ in uniform(low, high) }
    }
}

/// The largest violation of |a − e| ≤ atol + rtol·|e|, as a description, or nil when all elements pass.
public func mismatch(_ actual: [Float], _ expected: [Double], rtol: Double = 1e-4, atol: Double = 1e-5) -> String? {
    guard actual.count == expected.count else { return "count \(actual.count) != \(expected.count)" }
    var worst: (index: Int, excess: Double)?
    for i in actual.indices {
        let a = Double(actual[i]), e = expected[i]
        let excess = abs(a - e) - (atol + rtol * abs(e))
        if !(excess <= 0) && (worst == nil || !(excess <= worst!.excess)) { worst = (i, excess) }
    }
    guard let worst else { return nil }
    return "element \(worst.index): \(actual[worst.index]) vs expected \(expected[worst.index])"
}

/// Converts to double for reference computations.
public func doubles(_ values: [Float]) -> [Double] { values.map(Double.init) }
