import ArgumentParser
import Foundation
import OxpeckerStore

/// `oxpecker encrypt`: encrypts a plain store in place.
struct EncryptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encrypt",
        abstract: "Encrypt a plain store in place under a key.",
        discussion: """
            Seals every personal value, the outbox and the search index in one transaction, then \\
            vacuums the file so no clear copy is left in it or its write-ahead log. The key as for \\
            `oxpecker init --encrypted`: --key-file PATH (a new key is written there if the file does \\
            not exist), $OXPECKER_STORE_KEY or $OXPECKER_STORE_PASSPHRASE. Stop every other program \\
            using the store first. Copies of the store made before (backups) stay in clear.
            """)

    @OptionGroup var location: StoreLocation

    func run() throws {
        // Refused before a key file is written for it.
        guard FileManager.default.fileExists(atPath: location.path) else { throw StoreError.storeNotFound(path: location.path) }
        let key = try location.newKey()
        try CustomerStore.encrypt(at: location.path, key: key)
        Console.out("encrypted \(location.path)")
    }
}

/// `oxpecker rekey`: gives an encrypted store a new key.
struct RekeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rekey",
        abstract: "Give an encrypted store a new key; the old one stops opening it.",
        discussion: """
            The current key as for every command (--key-file, $OXPECKER_STORE_KEY or \\
            $OXPECKER_STORE_PASSPHRASE); the new one with --new-key-file PATH (a new key is written \\
            there if the file does not exist) or a passphrase in $OXPECKER_NEW_STORE_PASSPHRASE. Only \\
            the wrapped keys are rewritten, not the data. Stop every other program using the store first.
            """)

    @OptionGroup var location: StoreLocation

    @Option(name: .customLong("new-key-file"), help: ArgumentHelp("The new key's file (made if missing).", valueName: "path"))
    var newKeyFile: String?

    func run() throws {
        guard let current = try location.key() else { throw StoreError.keyRequired(path: location.path) }
        let passphrase = ProcessInfo.processInfo.environment["OXPECKER_NEW_STORE_PASSPHRASE"].flatMap { $0.isEmpty ? nil : $0 }
        let new: StoreKey
        switch (newKeyFile, passphrase) {
        case (let path?, nil) where FileManager.default.fileExists(atPath: path):
            new = try StoreKey.keyFile(path)
        case (let path?, nil):
            new = StoreKey.generate()
            try new.writeKeyFile(to: path)
            Console.error("wrote a new store key to '\(path)' (mode 0600): keep a copy apart from the store")
        case (nil, let passphrase?):
            new = try StoreKey.passphrase(passphrase)
        default:
            throw InputError.usage("give the new key: --new-key-file PATH or $OXPECKER_NEW_STORE_PASSPHRASE (one of them)")
        }
        try CustomerStore.rekey(at: location.path, from: current, to: new)
        Console.out("rekeyed \(location.path)")
    }
}
