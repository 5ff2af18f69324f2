// swift-tools-version: 6.1
import Foundation
import PackageDescription

// A path dependency is known by its folder's name; the repository may be cloned under any name.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

// libFuzzer targets, a package of their own so that the main package's build and
// tests never compile them. Every module is built with the fuzzer's coverage
// instrumentation; libFuzzer provides `main`. On Linux, from the repository root:
//
//     swift build -c release --package-path Fuzz -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library -Xswiftc -use-ld=lld
//     Fuzz/.build/release/fuzz-decoder CORPUS_DIR -max_total_time=60
//
// `.ci/steps/fuzz.sh` does both, with seed corpora made from Protocol/vectors.
let package = Package(
    name: "OxpeckerFuzz",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "fuzz-decoder", targets: ["fuzz-decoder"]),
        .executable(name: "fuzz-apply", targets: ["fuzz-apply"]),
    ],
    dependencies: [
        .package(path: ".."),
    ],
    targets: [
        // The declaration of libFuzzer's driver, which each target's entry point calls.
        .target(name: "FuzzerDriver"),
        // Every protocol message through WireCodec: no crash, and whatever decodes re-encodes canonically.
        .executableTarget(
            name: "fuzz-decoder",
            dependencies: ["FuzzerDriver", .product(name: "OxpeckerProtocol", package: root)],
            swiftSettings: [.swiftLanguageMode(.v6), .enableUpcomingFeature("ExistentialAny")]
        ),
        // Decoded changes applied to a real SQLite store: no crash, no error other than a rejection.
        .executableTarget(
            name: "fuzz-apply",
            dependencies: [
                "FuzzerDriver",
                .product(name: "OxpeckerProtocol", package: root),
                .product(name: "OxpeckerStore", package: root),
            ],
            swiftSettings: [.swiftLanguageMode(.v6), .enableUpcomingFeature("ExistentialAny")]
        ),
    ]
)
