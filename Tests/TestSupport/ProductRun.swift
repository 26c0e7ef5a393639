import Foundation

/// A run of a built product (the `autoencoder` tool, `autoencoder-bench`): what it printed and how it ended.
public struct ProductRun: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    /// The executable `name` built beside the test products, else under `.build/debug`.
    public static func executable(named name: String) -> URL {
        var directory = Bundle.main.bundleURL
        for _ in 0..<3 {
            let candidate = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: ".build/debug/\(name)")
    }

    /// Runs `executable` with `arguments` and exactly `environment`, in `directory` when given, and waits for it.
    public static func run(_ executable: URL, _ arguments: [String], environment: [String: String],
                           in directory: URL? = nil) throws -> ProductRun {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ProductRun(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                          stderr: String(decoding: stderr, as: UTF8.self))
    }
}
