// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Oxpecker",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "OxpeckerProtocol", targets: ["OxpeckerProtocol"]),
        .library(name: "OxpeckerStore", targets: ["OxpeckerStore"]),
        .executable(name: "oxpecker", targets: ["oxpecker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // The wire format: Foundation only, imported by every other module.
        .target(name: "OxpeckerProtocol", swiftSettings: strict),
        // The local store on SQLite (GRDB over the system libsqlite3).
        .target(
            name: "OxpeckerStore",
            dependencies: ["OxpeckerProtocol", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict
        ),
        // The CLI for devices and administrators.
        .executableTarget(
            name: "oxpecker",
            dependencies: [
                "OxpeckerProtocol",
                "OxpeckerStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "OxpeckerProtocolTests", dependencies: ["OxpeckerProtocol"], swiftSettings: strict),
        .testTarget(name: "OxpeckerStoreTests", dependencies: ["OxpeckerStore"], swiftSettings: strict),
        .testTarget(
            name: "OxpeckerCLITests",
            // "oxpecker" so that `swift test` builds the binary the tests run; GRDB to make foreign SQLite files.
            dependencies: [
                "oxpecker", "OxpeckerProtocol", "OxpeckerStore", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Tests/OxpeckerCLITests",
            swiftSettings: strict
        ),
    ]
)
