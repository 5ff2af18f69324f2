// swift-tools-version: 6.1
import PackageDescription

// The benchmark tool, a package of its own so that the main package's build and
// tests never compile it. Run it from the repository root:
//
//     swift run -c release --package-path Benchmarks oxpecker-bench [--quick] [--markdown PATH]
let package = Package(
    name: "OxpeckerBenchmarks",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "oxpecker-bench", targets: ["oxpecker-bench"]),
    ],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .executableTarget(
            name: "oxpecker-bench",
            dependencies: [
                .product(name: "OxpeckerStore", package: "main"),
                .product(name: "OxpeckerProtocol", package: "main"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [
                .swiftLanguageMode(.v6),
                .enableUpcomingFeature("ExistentialAny"),
            ]
        ),
    ]
)
