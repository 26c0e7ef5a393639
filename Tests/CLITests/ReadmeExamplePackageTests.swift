import Foundation
import Testing

/// The README's library example, taken verbatim from README.md, builds and runs as a new user's package that
/// depends on this clone by path. A fresh build of the library takes minutes, so it runs where
/// `AUTOENCODERKIT_README_PACKAGE=1` is set (`.ci/run` sets it).
@Suite struct ReadmeExamplePackageTests {
    static let enabled = ProcessInfo.processInfo.environment["AUTOENCODERKIT_README_PACKAGE"] == "1"

    /// The repository root (this file is Tests/CLITests/ReadmeExamplePackageTests.swift).
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The body of the README's one ```swift block.
    static func readmeSwiftBlock() throws -> String {
        let readme = try String(contentsOf: repository.appendingPathComponent("README.md"), encoding: .utf8)
        let blocks = readme.components(separatedBy: "```swift\n").dropFirst()
        #expect(blocks.count == 1, "the README has \(blocks.count) Swift blocks")
        let block = try #require(blocks.first?.components(separatedBy: "\n```").first)
        return block + "\n"
    }

    @Test(.enabled(if: enabled)) func theLibraryExampleBuildsAsItsOwnPackage() throws {
        let package = try CLIRunner.temporaryFolder()
        let sources = package.appendingPathComponent("Sources/ReadmeExample")
        try FileManager.default.createDirectory(at: sources, withIntermediateDirectories: true)
        let identity = Self.repository.lastPathComponent
        let manifest = """
        // swift-tools-version:6.0
        import PackageDescription

        let package = Package(
            name: "ReadmeExample",
            dependencies: [.package(path: "\(Self.repository.path)")],
            targets: [
                .executableTarget(name: "ReadmeExample", dependencies: [.product(name: "AutoencoderKit", package: "\(identity)")]),
            ]
        )
        """
        try manifest.write(to: package.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
        try Self.readmeSwiftBlock().write(to: sources.appendingPathComponent("main.swift"), atomically: true, encoding: .utf8)

        let scratch = package.appendingPathComponent(".scratch")
        let build = try Self.run(["swift", "build", "--package-path", package.path, "--scratch-path", scratch.path], in: package)
        #expect(build.status == 0, "\(build.output.suffix(3000))")
        guard build.status == 0 else { return }
        let example = try Self.run([scratch.appendingPathComponent("debug/ReadmeExample").path], in: package)
        #expect(example.status == 0, "\(example.output.suffix(2000))")
        #expect(example.output.contains("epoch 30: loss"), "\(example.output.suffix(2000))")
        #expect(FileManager.default.fileExists(atPath: package.appendingPathComponent("vae.safetensors").path))
        try? FileManager.default.removeItem(at: package)
    }

    /// Runs a command in `directory`; standard output and error together.
    static func run(_ arguments: [String], in directory: URL) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
