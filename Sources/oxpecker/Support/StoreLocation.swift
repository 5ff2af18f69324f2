import ArgumentParser
import Foundation
import OxpeckerStore

/// The `--store` option every command shares, and how the store file is found and opened.
struct StoreLocation: ParsableArguments {
    /// The environment variable naming the store when `--store` is not given.
    static let environmentVariable = "OXPECKER_STORE"
    /// The store file used when neither `--store` nor the environment names one.
    static let defaultFileName = "customers.oxpecker"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The store file (default: $\(StoreLocation.environmentVariable), else ./\(StoreLocation.defaultFileName)).",
            valueName: "path"))
    var store: String?

    /// The path the command works on.
    var path: String {
        if let store, !store.isEmpty { return store }
        if let fromEnvironment = ProcessInfo.processInfo.environment[Self.environmentVariable], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return Self.defaultFileName
    }

    /// Opens the existing store; never creates one.
    func open(durability: Durability = .full) throws -> CustomerStore {
        try CustomerStore.open(at: path, options: StoreOptions(durability: durability))
    }

    /// Opens the store, runs `body` on it, and closes it.
    func withStore<T>(durability: Durability = .full, _ body: (CustomerStore) throws -> T) throws -> T {
        let store = try open(durability: durability)
        defer { try? store.close() }
        return try body(store)
    }
}
