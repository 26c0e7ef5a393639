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

    /// Rewrites the current terminal line (interactive only).
    static func status(_ line: String) {
        guard isInteractive else { return }
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
    }

    /// Ends a status line.
    static func endStatus() {
        guard isInteractive else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }

    /// One JSON object on one line of standard output, keys sorted.
    static func printJSON(_ object: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
    }

    /// A bar of `width` cells filled to `fraction`.
    static func bar(_ fraction: Double, width: Int = 24) -> String {
        let filled = Int((min(max(fraction, 0), 1) * Double(width)).rounded())
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }
}
