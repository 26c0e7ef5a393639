import AutoencoderKit
import Foundation

/// Output helpers: errors and progress go to standard error, results to standard output.
enum Terminal {
    /// Whether standard error is a terminal (live progress bar) or a pipe/file (plain lines).
    static let isInteractive = isatty(fileno(stderr)) != 0

    static func error(_ message: String) {
        FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
    }

    static func note(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    /// Whether a status line is drawn and not yet ended.
    nonisolated(unsafe) private static var statusShowing = false

    /// Rewrites the current terminal line (interactive only).
    static func status(_ line: String) {
        guard isInteractive else { return }
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
        statusShowing = true
    }

    /// Ends a status line by erasing it.
    static func endStatus() {
        guard isInteractive else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
        statusShowing = false
    }

    /// Ends a status line by keeping it and moving to the next line (an interrupted run shows where it stopped).
    static func finishStatus() {
        guard statusShowing else { return }
        FileHandle.standardError.write(Data("\n".utf8))
        statusShowing = false
    }

    /// One JSON object on one line of standard output, keys sorted.
    ///
    /// - Throws: `DataError.nonFinite` naming the first NaN or infinite number (JSON has none), before printing.
    static func printJSON(_ object: [String: Any]) throws {
        if let (key, value) = firstNonFinite(object) {
            throw DataError(file: "--json output", .nonFinite("\(key) is \(value)"))
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
    }

    /// The dotted key path and value of the first non-finite number in a JSON object, if any.
    private static func firstNonFinite(_ value: Any, path: String = "") -> (String, Double)? {
        switch value {
        case let number as Double: return number.isFinite ? nil : (path, number)
        case let number as Float: return number.isFinite ? nil : (path, Double(number))
        case let object as [String: Any]:
            for key in object.keys.sorted() {
                if let found = firstNonFinite(object[key]!, path: path.isEmpty ? key : path + "." + key) { return found }
            }
            return nil
        case let array as [Any]:
            for (index, element) in array.enumerated() {
                if let found = firstNonFinite(element, path: "\(path)[\(index)]") { return found }
            }
            return nil
        default: return nil
        }
    }

    /// `n` and the noun, in the plural unless n is 1: "1 epoch", "20 epochs".
    static func count(_ n: Int, _ noun: String) -> String {
        "\(n) \(noun)\(n == 1 ? "" : "s")"
    }

    /// `bytes` in kB, MB or GB, three significant digits.
    static func bytes(_ bytes: Int) -> String {
        let (value, unit) = bytes >= 1_000_000_000 ? (Double(bytes) / 1e9, "GB") : bytes >= 1_000_000 ? (Double(bytes) / 1e6, "MB") : (Double(bytes) / 1e3, "kB")
        return String(format: "%.3g %@", value, unit)
    }

    /// A bar of `width` cells filled to `fraction`.
    static func bar(_ fraction: Double, width: Int = 24) -> String {
        let filled = Int((min(max(fraction, 0), 1) * Double(width)).rounded())
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }
}
