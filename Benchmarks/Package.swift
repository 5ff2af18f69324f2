// swift-tools-version: 6.1
import Foundation
import PackageDescription

// A path dependency is known by its folder's name; the repository may be cloned under any name.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

// The benchmark tools, a package of their own so that the main package's build and
// tests never compile them. Run every benchmark from the repository root:
//
//     swift run -c release --package-path Benchmarks oxpecker-bench [--quick] [--markdown BENCHMARKS.md]
//
// oxpecker-load (the load generator: N simulated devices against oxpecker-server)
// and oxpecker-sync-bench also run alone.
let package = Package(
    name: "OxpeckerBenchmarks",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "oxpecker-bench", targets: ["oxpecker-bench"]),
        .executable(name: "oxpecker-sync-bench", targets: ["oxpecker-sync-bench"]),
        .executable(name: "oxpecker-load", targets: ["oxpecker-load"]),
    ],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        .executableTarget(
            name: "oxpecker-bench",
            dependencies: [
                "BenchmarkResults",
                // Run as child processes (built with it, so that one `swift run` builds everything).
                "oxpecker-sync-bench", "oxpecker-load", .product(name: "oxpecker-server", package: root),
                .product(name: "OxpeckerStore", package: root),
                .product(name: "OxpeckerProtocol", package: root),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [
                .swiftLanguageMode(.v6),
                .enableUpcomingFeature("ExistentialAny"),
            ]
        ),
        .executableTarget(
            name: "oxpecker-sync-bench",
            dependencies: [
                "BenchmarkResults",
                .product(name: "OxpeckerStore", package: root),
                .product(name: "OxpeckerProtocol", package: root),
                .product(name: "OxpeckerServer", package: root),
                .product(name: "OxpeckerSync", package: root),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [
                .swiftLanguageMode(.v6),
                .enableUpcomingFeature("ExistentialAny"),
            ]
        ),
        // The numbers oxpecker-load and oxpecker-sync-bench measure, as JSON that oxpecker-bench reads.
        .target(
            name: "BenchmarkResults",
            swiftSettings: [
                .swiftLanguageMode(.v6),
                .enableUpcomingFeature("ExistentialAny"),
            ]
        ),
        // The load generator: N simulated devices against a running server (or servers it starts).
        .executableTarget(
            name: "oxpecker-load",
            dependencies: [
                "BenchmarkResults",
                .product(name: "OxpeckerStore", package: root),
                .product(name: "OxpeckerProtocol", package: root),
                .product(name: "OxpeckerSync", package: root),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [
                .swiftLanguageMode(.v6),
                .enableUpcomingFeature("ExistentialAny"),
            ]
        ),
    ]
)
