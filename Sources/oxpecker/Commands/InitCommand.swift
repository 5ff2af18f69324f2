import ArgumentParser
import Foundation
import OxpeckerStore

/// `oxpecker init`: creates a new, empty store and prints its replica id.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a new store file and print its replica id.",
        discussion: """
            Refuses to overwrite an existing file.

            --encrypted makes a store whose personal data (names, birth date, tax residence, free-text \\
            fields, interests and tags, note texts, redaction reasons, life-event details, contact topics, \\
            the outbox and the search index) is sealed with AES-GCM under a key of each customer, wrapped \\
            by the store's key. The key: --key-file PATH (a new random key is written there, mode 0600, \\
            if the file does not exist), $OXPECKER_STORE_KEY, or a passphrase in $OXPECKER_STORE_PASSPHRASE \\
            (stretched with scrypt). Every later command needs the same key. Keep a copy of the key file \\
            apart from the store: without it the personal data cannot be read by anyone, Oxpecker included.
            """)

    @OptionGroup var location: StoreLocation

    @Flag(help: "Encrypt the store's personal data under a key (see the discussion above).")
    var encrypted = false

    func run() throws {
        var options = StoreOptions()
        // Refused before a key file is written for it.
        guard !FileManager.default.fileExists(atPath: location.path) else { throw StoreError.storeExists(path: location.path) }
        if encrypted {
            options.key = try location.newKey()
        } else if try location.key() != nil {
            throw InputError.usage("a key was given for a plain store: add --encrypted, or give no key")
        }
        let store = try CustomerStore.create(at: location.path, options: options)
        defer { try? store.close() }
        Console.out(store.replica.rawValue)
    }
}
