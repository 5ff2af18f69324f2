import Foundation
@_spi(OxpeckerServer) import OxpeckerStore

/// Encryption at rest of the server's data: the server's key, and the key store
/// that holds each customer's data key, kept apart from the data.
///
/// With it, every logged change's body (and on the embedded backend every
/// personal value of the materialized state) is sealed (AES-GCM) under its
/// customer's data key; the key store holds those keys wrapped by the server's
/// key. A backup of the data (`oxpecker-server backup`, a copy of the folder,
/// `pg_dump`) holds no key: erasing a customer destroys their key, and every copy
/// of their data made before becomes unreadable, backups included.
///
/// The key store is a file outside the data folder for the embedded (SQLite)
/// backend (``KeyStoreFile``), and a PostgreSQL database other than the data's
/// for the PostgreSQL backend (``PostgresKeyStore``, shared by every instance).
public struct ServerEncryption: Sendable {
    /// Wraps the key store's keys and the state's secret (search tokens, records).
    public var key: StoreKey
    /// Where the key store is, on a backup regime of its own: a file outside the data
    /// folder (SQLite), or a `postgres://` URL of another database (PostgreSQL).
    public var keyStore: String

    public init(key: StoreKey, keyStore: String) {
        self.key = key
        self.keyStore = keyStore
    }

    /// Refuses a key store inside `dataDirectory`: a copy of the folder would hold the keys.
    func checkApart(from dataDirectory: String) throws {
        let keys = URL(fileURLWithPath: keyStore).standardizedFileURL.resolvingSymlinksInPath().path
        let data = URL(fileURLWithPath: dataDirectory).standardizedFileURL.resolvingSymlinksInPath().path
        if keys == data || keys.hasPrefix(data.hasSuffix("/") ? data : data + "/") {
            throw StoreError.keyUnusable(
                reason: "the key store '\(keyStore)' is inside the data folder '\(dataDirectory)': keep it apart, so that no copy of the data holds the keys")
        }
    }
}
