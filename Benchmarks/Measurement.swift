import AutoencoderKit
import Foundation

/// Wall-clock timing of device work.
enum Timing {
    /// Seconds since an arbitrary origin, from the monotonic clock.
    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

    /// The median time of one call of `body`, device work included.
    ///
    /// After one warm-up call, the number of calls per sample is chosen so that one sample lasts about
    /// `targetSeconds` (at least one call); each sample runs that many calls back to back, then waits for the
    /// device, and divides by the count. The median over `samples` samples is returned.
    static func median(on device: any Device, samples: Int = 7, targetSeconds: Double = 0.02,
                       _ body: () -> Void) -> Double {
        body()
        device.synchronize()
        let probeStart = now()
        body()
        device.synchronize()
        let probe = max(now() - probeStart, 1e-7)
        let calls = max(1, min(10_000, Int(targetSeconds / probe)))
        var times: [Double] = []
        for _ in 0..<samples {
            let start = now()
            for _ in 0..<calls { body() }
            device.synchronize()
            times.append((now() - start) / Double(calls))
        }
        return median(times)
    }

    /// The median of a non-empty list (the mean of the two middle values for an even count).
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

/// Uniform floats in [low, high) from a seeded SplitMix64, for inputs that are the same on every device.
struct UniformFloats {
    private var generator: SplitMix64

    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    /// `count` values uniform in [low, high): 24 random bits per value.
    mutating func next(_ count: Int, low: Float = 0, high: Float = 1) -> [Float] {
        let span = high - low
        return (0..<count).map { _ in low + span * Float(generator.next() >> 40) * 0x1p-24 }
    }
}

/// One benchmark result: named fields in a fixed order, printed as a JSON object or a table row.
struct BenchRecord {
    /// A field's value.
    enum Value {
        case text(String)
        case integer(Int)
        case number(Double)

        var json: String {
            switch self {
            case .text(let s):
                let escaped = s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                return "\"\(escaped)\""
            case .integer(let i): return String(i)
            case .number(let x): return x.isFinite ? String(format: "%.6g", x) : "null"
            }
        }

        /// Short human form for tables: up to four significant digits, no exponent for usual magnitudes.
        var cell: String {
            switch self {
            case .text(let s): return s
            case .integer(let i): return String(i)
            case .number(let x):
                guard x.isFinite else { return "—" }
                if x != 0 && (abs(x) < 1e-3 || abs(x) >= 1e7) { return String(format: "%.2e", x) }
                if abs(x) >= 1000 { return String(format: "%.0f", x) }
                return String(format: "%.4g", x)
            }
        }
    }

    var fields: [(key: String, value: Value)] = []

    subscript(key: String) -> Value? {
        get { fields.first { $0.key == key }?.value }
        set {
            if let index = fields.firstIndex(where: { $0.key == key }) {
                if let newValue { fields[index].value = newValue } else { fields.remove(at: index) }
            } else if let newValue {
                fields.append((key, newValue))
            }
        }
    }

    /// One JSON object on one line, keys in insertion order.
    var jsonLine: String {
        "{" + fields.map { "\"\($0.key)\": \($0.value.json)" }.joined(separator: ", ") + "}"
    }
}

/// Prints records as a markdown table with the given columns (missing fields are blank).
func printTable(_ records: [BenchRecord], columns: [(key: String, title: String)]) {
    guard !records.isEmpty else { return }
    print("| " + columns.map(\.title).joined(separator: " | ") + " |")
    print("|" + columns.map { _ in "---" }.joined(separator: "|") + "|")
    for record in records {
        print("| " + columns.map { record[$0.key]?.cell ?? "" }.joined(separator: " | ") + " |")
    }
}

/// Opens the devices named on the command line, or the CPU backend and every OpenCL device when none is named.
func openDevices(_ names: [String]) throws -> [any Device] {
    if names.isEmpty {
        let openCL = Devices.available().compactMap(\.index)
        return [CPUDevice()] + (try openCL.map { try Devices.open(.opencl(index: $0)) })
    }
    return try names.map { try Devices.open(DeviceSelection(parsing: $0)) }
}
