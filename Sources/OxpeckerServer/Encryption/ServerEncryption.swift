import Foundation
@_spi(OxpeckerServer) import OxpeckerStore

/// Encryption at rest of the embedded (SQLite) backend: the server's key, and the
/// key store that holds each customer's data key, kept outside the data folder.
///
/// With it, every personal value of the materialized state and every logged
/// change's body are sealed (AES-GCM) under their customer's data key; the key
/// store holds those keys wrapped by the server's key. A backup of the data
/// (`oxpecker-server backup`, a copy of the folder) holds no key: erasing a
/// customer destroys their key, and every copy of their data made before becomes
/// unreadable, backups included.
public struct ServerEncryption: Sendable {
    /// Wraps the key store's keys and the state's secret (search tokens, records).
    public var key: StoreKey
    /// The key store's file: outside the data folder, on a backup regime of its own.
    public var keyStorePath: String

    public init(key: StoreKey, keyStorePath: String) {
        self.key = key
        self.keyStorePath = keyStorePath
    }

    /// Refuses a key store inside `dataDirectory`: a copy of the folder would hold the keys.
    func checkApart(from dataDirectory: String) throws {
        let keys = URL(fileURLWithPath: keyStorePath).standardizedFileURL.resolvingSymlinksInPath().path
        let data = URL(fileURLWithPath: dataDirectory).standardizedFileURL.resolvingSymlinksInPath().path
        if keys == data || keys.hasPrefix(data.hasSuffix("/") ? data : data + "/") {
            throw StoreError.keyUnusable(
                reason: "the key store '\(keyStorePath)' is inside the data folder '\(dataDirectory)': keep it apart, so that no copy of the data holds the keys")
        }
    }
}
