// swift-tools-version:5.4
// libFuzzer harnesses for the file parsers of the main package, one executable per parser. They link only
// with the fuzzer runtime (which supplies `main`), so build them with `Fuzz/run.sh`, not with a plain
// `swift build`; the main package's build and tests do not see this package.
//
// Tools version 5.4 on purpose: from 5.5 on, SwiftPM links executables with `--defsym main=<Module>_main`,
// a symbol that `-parse-as-library` harnesses never define, so the link fails; under 5.4 the harness
// object links as is and libFuzzer's `main` drives `LLVMFuzzerTestOneInput`.
import PackageDescription

/// One harness per parser: the executable target `Fuzz<name>` in `Sources/Fuzz<name>`.
let parsers = ["IDX", "Gzip", "CSV", "NPY", "SafeTensors", "Config"]

let autoencoderKit: Target.Dependency = .product(name: "AutoencoderKit", package: "AutoencoderKit")

let package = Package(
    name: "AutoencoderKitFuzz",
    dependencies: [.package(name: "AutoencoderKit", path: "..")],
    targets: [
        // The error check every harness shares: typed errors are fine, anything else is a finding.
        .target(name: "FuzzSupport", dependencies: [autoencoderKit]),
    ] + parsers.map { .executableTarget(name: "Fuzz\($0)", dependencies: ["FuzzSupport", autoencoderKit]) },
    swiftLanguageVersions: [.v5]
)
