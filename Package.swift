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
        .library(name: "OxpeckerSync", targets: ["OxpeckerSync"]),
        .library(name: "OxpeckerServer", targets: ["OxpeckerServer"]),
        .executable(name: "oxpecker", targets: ["oxpecker"]),
        .executable(name: "oxpecker-server", targets: ["oxpecker-server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // The wire format: Foundation only, imported by every other module.
        .target(name: "OxpeckerProtocol", swiftSettings: strict),
        // The local store on SQLite (GRDB over the system libsqlite3).
        .target(
            name: "OxpeckerStore",
            dependencies: [
                "OxpeckerProtocol", .product(name: "GRDB", package: "GRDB.swift"),
                // The SQLite C API, for the few statements of the write path that bind their arguments directly.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                // Encrypted stores: AES-GCM, HKDF, HMAC (Crypto) and scrypt for passphrases (CryptoExtras).
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // The sync client: push, pull, bootstrap over HTTP, checkpoints, retries.
        .target(
            name: "OxpeckerSync",
            dependencies: [
                "OxpeckerStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        // The sync server as a library: routes, auth, storage backends (embedded SQLite, PostgreSQL).
        .target(
            name: "OxpeckerServer",
            dependencies: [
                "OxpeckerStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The advisor's console: a local web page over the store (Hummingbird, server-rendered Mustache HTML).
        .target(
            name: "OxpeckerConsole",
            dependencies: [
                "OxpeckerStore",
                "OxpeckerSync",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The CLI for devices and administrators.
        .executableTarget(
            name: "oxpecker",
            dependencies: [
                "OxpeckerProtocol",
                "OxpeckerStore",
                "OxpeckerSync",
                "OxpeckerConsole",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // The sync server process: configuration, then OxpeckerServer.
        .executableTarget(
            name: "oxpecker-server",
            dependencies: [
                "OxpeckerServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // What the tests share: starting a child process; fixtures of earlier schema versions.
        .target(
            name: "OxpeckerTestSupport", dependencies: [.product(name: "GRDB", package: "GRDB.swift")], path: "Tests/Support",
            swiftSettings: strict),
        .testTarget(name: "OxpeckerProtocolTests", dependencies: ["OxpeckerProtocol"], swiftSettings: strict),
        .testTarget(
            name: "OxpeckerStoreTests",
            // GRDB to reach into a store's connection (a size limit that makes the disk "full").
            dependencies: ["OxpeckerStore", "OxpeckerTestSupport", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "OxpeckerCLITests",
            // "oxpecker" so that `swift test` builds the binary the tests run; GRDB to make foreign SQLite files.
            dependencies: [
                "OxpeckerTestSupport",
                "oxpecker", "OxpeckerProtocol", "OxpeckerStore", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Tests/OxpeckerCLITests",
            swiftSettings: strict
        ),
        .testTarget(
            name: "OxpeckerConsoleTests",
            // HummingbirdTesting for its HTTP client, which lets a test choose the Host header;
            // "oxpecker" so that `swift test` builds the binary whose `console` command a test runs.
            dependencies: [
                "OxpeckerTestSupport",
                "OxpeckerConsole", "OxpeckerStore", "OxpeckerProtocol", "oxpecker",
                // A real sync server for the Sync page's button.
                "OxpeckerServer", "OxpeckerSync",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "OxpeckerServerTests",
            dependencies: [
                "OxpeckerTestSupport",
                "OxpeckerServer", "OxpeckerStore", "OxpeckerSync", "oxpecker-server",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                // A certificate authority and JWTs made by the tests themselves.
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strict
        ),
    ]
)
