// swift-tools-version: 6.1
import Foundation
import PackageDescription

// A path dependency is known by its folder's name; the repository may be cloned under any name.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

// The benchmark tool, a package of its own so that the main package's build and
// tests never compile it. Run it from the repository root:
//
//     swift run -c release --package-path Benchmarks oxpecker-bench [--quick] [--markdown PATH]
let package = Package(
    name: "OxpeckerBenchmarks",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "oxpecker-bench", targets: ["oxpecker-bench"]),
        .executable(name: "oxpecker-sync-bench", targets: ["oxpecker-sync-bench"]),
    ],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "oxpecker-bench",
            dependencies: [
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
    ]
)
