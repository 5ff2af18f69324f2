import ArgumentParser
import Foundation
import OxpeckerStore

/// The `--store` and `--key-file` options every command shares, and how the store
/// file and its key are found and the store opened.
struct StoreLocation: ParsableArguments {
    /// The environment variable naming the store when `--store` is not given.
    static let environmentVariable = "OXPECKER_STORE"
    /// The environment variable naming the key file when `--key-file` is not given.
    static let keyFileVariable = "OXPECKER_STORE_KEY_FILE"
    /// The store file used when neither `--store` nor the environment names one.
    static let defaultFileName = "customers.oxpecker"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The store file (default: $\(StoreLocation.environmentVariable), else ./\(StoreLocation.defaultFileName)).",
            valueName: "path"))
    var store: String?

    @Option(
        name: .customLong("key-file"),
        help: ArgumentHelp(
            "An encrypted store's key file, readable by its owner only (default: $\(StoreLocation.keyFileVariable); "
                + "else the key in $\(StoreKey.environmentVariable) or a passphrase in $\(StoreKey.passphraseVariable)).",
            valueName: "path"))
    var keyFile: String?

    /// The path the command works on.
    var path: String {
        if let store, !store.isEmpty { return store }
        if let fromEnvironment = ProcessInfo.processInfo.environment[Self.environmentVariable], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return Self.defaultFileName
    }

    /// The key file named by `--key-file` or the environment, if any.
    var keyFilePath: String? {
        if let keyFile, !keyFile.isEmpty { return keyFile }
        if let fromEnvironment = ProcessInfo.processInfo.environment[Self.keyFileVariable], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return nil
    }

    /// The key given, if any: a key file, else the key, else a passphrase from the environment.
    /// Giving more than one is refused (which would win is a guess).
    func key() throws -> StoreKey? {
        let environment = ProcessInfo.processInfo.environment
        let encoded = environment[StoreKey.environmentVariable].flatMap { $0.isEmpty ? nil : $0 }
        let passphrase = environment[StoreKey.passphraseVariable].flatMap { $0.isEmpty ? nil : $0 }
        let given = [keyFilePath != nil, encoded != nil, passphrase != nil].filter { $0 }.count
        guard given <= 1 else {
            throw InputError.usage(
                "give one store key: --key-file (or $\(Self.keyFileVariable)), $\(StoreKey.environmentVariable) or $\(StoreKey.passphraseVariable)")
        }
        if let keyFilePath { return try StoreKey.keyFile(keyFilePath) }
        if let encoded { return try StoreKey.encoded(encoded) }
        if let passphrase { return try StoreKey.passphrase(passphrase) }
        return nil
    }

    /// The key a store is being encrypted with: the key file's (a new random key is
    /// written there, mode 0600, if there is no file yet), else the one from the environment.
    func newKey() throws -> StoreKey {
        if let path = keyFilePath, !FileManager.default.fileExists(atPath: path) {
            let key = StoreKey.generate()
            try key.writeKeyFile(to: path)
            Console.error("wrote a new store key to '\(path)' (mode 0600): keep a copy apart from the store; without it the data is lost")
            return key
        }
        guard let key = try key() else {
            throw InputError.usage(
                "an encrypted store needs a key: --key-file PATH (made if missing), $\(StoreKey.environmentVariable) or $\(StoreKey.passphraseVariable)")
        }
        return key
    }

    /// Opens the existing store; never creates one.
    func open(durability: Durability = .full) throws -> CustomerStore {
        try CustomerStore.open(at: path, options: StoreOptions(durability: durability, key: key()))
    }

    /// Opens the store, runs `body` on it, and closes it.
    func withStore<T>(durability: Durability = .full, _ body: (CustomerStore) throws -> T) throws -> T {
        let store = try open(durability: durability)
        defer { try? store.close() }
        return try body(store)
    }
}
