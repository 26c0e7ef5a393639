import Foundation
import TestSupport

/// Runs the `autoencoder` binary built beside the test bundle and captures what it prints.
struct CLIRunner {
    typealias Result = ProductRun

    /// The built executable, found next to the test products.
    static let executable = ProductRun.executable(named: "autoencoder")

    /// Runs the tool with `arguments` in `directory`, with extra environment variables.
    static func run(_ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:]) throws -> Result {
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        return try ProductRun.run(executable, arguments, environment: env, in: directory)
    }

    /// A fresh temporary folder.
    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("autoencoder-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The last line of standard output parsed as a JSON object.
    static func json(_ result: Result) -> [String: Any]? {
        guard let line = result.stdout.split(separator: "\n").last,
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) else { return nil }
        return object as? [String: Any]
    }
}
