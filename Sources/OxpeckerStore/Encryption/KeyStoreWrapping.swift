import Crypto
import Foundation

/// How a key store kept apart from the data (``KeyStoreFile``, the PostgreSQL
/// backend's key store) wraps the customers' data keys: under a key derived
/// from the server's key (``StoreKey``), each bound to the key store's id and
/// the customer's id, and a check value that tells a wrong server key at once.
///
/// One way for every key store, so they all refuse a wrong key the same way and
/// a key wrapped in one is never opened as another customer's.
@_spi(OxpeckerServer)
public struct KeyStoreWrapping: Sendable {
    /// What a key store records about itself when it is made.
    public struct Record: Sendable {
        /// The key store's id (random): the data it serves records it.
        public let id: String
        /// `none` for a key, `scrypt-…` for a passphrase (``StoreKey``).
        public let kdf: String
        public let salt: Data
        /// A known text sealed under the wrapping key: opens only with the right server key.
        public let check: Data

        public init(id: String, kdf: String, salt: Data, check: Data) {
            self.id = id
            self.kdf = kdf
            self.salt = salt
            self.check = check
        }
    }

    public let id: String
    private let wrappingKey: SymmetricKey

    /// The record of a new key store under `key`, and its wrapping.
    public static func new(key: StoreKey) throws -> (Record, KeyStoreWrapping) {
        let id = "ks-" + UUID().uuidString.lowercased()
        let salt = SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) }
        let wrapping = try KeyRing.wrappingKey(for: key, salt: salt)
        let check = try KeyRing.seal(Data("oxpecker key store".utf8), key: wrapping, context: checkContext(id))
        return (Record(id: id, kdf: KeyRing.kdfName(for: key), salt: salt, check: check), KeyStoreWrapping(id: id, wrappingKey: wrapping))
    }

    /// The wrapping of the key store `record` describes; ``StoreError/wrongKey(path:)``
    /// (`location` named) if `key` is not the one it was made with.
    public init(record: Record, key: StoreKey, location: String) throws {
        switch key.material {
        case .passphrase where record.kdf == "none", .key where record.kdf != "none": throw StoreError.wrongKey(path: location)
        default: break
        }
        let wrapping = try KeyRing.wrappingKey(for: key, salt: record.salt)
        guard (try? KeyRing.open(record.check, key: wrapping, context: Self.checkContext(record.id))) != nil else {
            throw StoreError.wrongKey(path: location)
        }
        self.init(id: record.id, wrappingKey: wrapping)
    }

    private init(id: String, wrappingKey: SymmetricKey) {
        self.id = id
        self.wrappingKey = wrappingKey
    }

    /// A new random data key.
    public static func newDataKey() -> SymmetricKey { SymmetricKey(size: .bits256) }

    /// `key`, wrapped for `customer` in this key store.
    public func wrap(_ key: SymmetricKey, of customer: String) throws -> Data {
        try KeyRing.seal(key.withUnsafeBytes { Data($0) }, key: wrappingKey, context: keyContext(customer))
    }

    /// The data key of `customer` from its wrapped form; fails if it was wrapped for another
    /// customer or key store, or damaged (`location` named).
    public func unwrap(_ wrapped: Data, of customer: String, location: String) throws -> SymmetricKey {
        guard let bytes = try? KeyRing.open(wrapped, key: wrappingKey, context: keyContext(customer)) else {
            throw SealError("the data key of customer '\(customer)' in the key store '\(location)' does not open (damaged or moved)")
        }
        return SymmetricKey(data: bytes)
    }

    private func keyContext(_ customer: String) -> Data { Data("oxpecker key store \(id) customer \(customer)".utf8) }
    private static func checkContext(_ id: String) -> Data { Data("oxpecker key store \(id)".utf8) }
}

/// A customer's value sealed under their data key, their id bound: the form
/// `oxp_seal` gives an encrypted store's values (``KeyRing``), for a backend that
/// seals in Swift (PostgreSQL's log).
@_spi(OxpeckerServer)
public enum CustomerSealing {
    public static func seal(_ text: String, of customer: String, key: SymmetricKey) throws -> Data {
        try KeyRing.seal(Data(text.utf8), key: key, context: Data(customer.utf8))
    }

    /// The text sealed for `customer`; throws if it was sealed for another customer, under another key, or damaged.
    public static func open(_ sealed: Data, of customer: String, key: SymmetricKey) throws -> String {
        guard let opened = try? KeyRing.open(sealed, key: key, context: Data(customer.utf8)) else {
            throw SealError("a sealed value of customer '\(customer)' does not open (damaged or moved)")
        }
        return String(decoding: opened, as: UTF8.self)
    }
}
