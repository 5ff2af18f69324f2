import Crypto
import CryptoExtras
import Foundation
import Synchronization

/// The keys of an open encrypted store, and the sealing of its values.
///
/// - The store's key (or the key scrypt derives from its passphrase) only wraps:
///   it seals the store secret and every customer's data key, so a new store key
///   rewraps those and rewrites no value.
/// - Each customer has a data key of its own (`customer_key`, made when the
///   customer's row is): their personal values are sealed under it, with the
///   customer's id bound as associated data. Deleting the row (an erasure) leaves
///   every copy of their values unreadable.
/// - The store secret gives the search key (the blind index's tokens) and the
///   records key (changes kept apart from any customer: parked, refused).
///
/// A sealed value is AES-GCM's combined form behind a version byte:
/// `0x01 | nonce (12) | ciphertext | tag (16)`, stored as a BLOB, so a clear
/// value (always TEXT) is never mistaken for one.
final class KeyRing: Sendable {
    static let sealedVersion: UInt8 = 1

    private let wrappingKey: SymmetricKey
    let searchKey: SymmetricKey
    private let recordsKey: SymmetricKey
    /// Data keys unwrapped so far, by customer id.
    private let dataKeys = Mutex<[String: SymmetricKey]>([:])
    /// Where the customers' data keys live when they are kept apart from the store
    /// (the sync server's key store); nil: in the store's own `customer_key` table.
    let customerKeys: (any CustomerKeyStore)?
    /// Data keys made in the write transaction under way, for `customerKeys`:
    /// kept there just before it commits (``storePendingKeys()``), dropped if it rolls back.
    private let pendingKeys = Mutex<[String: SymmetricKey]>([:])

    /// The ring of a store whose wrapped secret is `wrappedSecret`; throws
    /// ``StoreError/wrongKey(path:)`` if `wrappingKey` did not wrap it.
    init(wrappingKey: SymmetricKey, wrappedSecret: Data, path: String, customerKeys: (any CustomerKeyStore)? = nil) throws {
        self.wrappingKey = wrappingKey
        self.customerKeys = customerKeys
        let secretKey = SymmetricKey(data: try Self.unwrapSecret(wrappedSecret, wrappingKey: wrappingKey, path: path))
        searchKey = Self.derive(secretKey, "oxpecker search tokens")
        recordsKey = Self.derive(secretKey, "oxpecker records")
    }

    /// A new store secret wrapped by `wrappingKey`, for a store being made encrypted.
    static func newWrappedSecret(wrappingKey: SymmetricKey) throws -> Data {
        try wrapSecret(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }, wrappingKey: wrappingKey)
    }

    static func wrapSecret(_ secret: Data, wrappingKey: SymmetricKey) throws -> Data {
        try seal(secret, key: wrappingKey, context: secretContext)
    }

    /// The store secret; ``StoreError/wrongKey(path:)`` if `wrappingKey` did not wrap it.
    static func unwrapSecret(_ wrapped: Data, wrappingKey: SymmetricKey, path: String) throws -> Data {
        guard let secret = try? open(wrapped, key: wrappingKey, context: secretContext) else { throw StoreError.wrongKey(path: path) }
        return secret
    }

    /// A customer's wrapped data key, wrapped again under `newKey` (a new store key).
    static func rewrapDataKey(_ wrapped: Data, of customer: String, from oldKey: SymmetricKey, to newKey: SymmetricKey) throws -> Data {
        let context = dataKeyContext(customer)
        return try seal(try open(wrapped, key: oldKey, context: context), key: newKey, context: context)
    }

    /// The key that wraps: `master` itself for a key, scrypt of the passphrase with `salt` for a passphrase.
    static func wrappingKey(for key: StoreKey, salt: Data) throws -> SymmetricKey {
        switch key.material {
        case .key(let master):
            return derive(master, "oxpecker wrapping")
        case .passphrase(let passphrase):
            let stretched = try KDF.Scrypt.deriveKey(
                from: Data(passphrase.utf8), salt: salt, outputByteCount: 32, rounds: 1 << 15, blockSize: 8, parallelism: 1)
            return derive(stretched, "oxpecker wrapping")
        }
    }

    /// The KDF a key needs, as `store_crypto.kdf` records it.
    static func kdfName(for key: StoreKey) -> String {
        if case .passphrase = key.material { return "scrypt-n32768-r8-p1" }
        return "none"
    }

    // MARK: Customer data keys

    /// A new data key for `customer`, wrapped. Not remembered: only a key read back
    /// from `customer_key` is (a key made for a row that was then ignored or rolled back
    /// must never seal anything).
    func newWrappedDataKey(for customer: String) throws -> Data {
        try Self.seal(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }, key: wrappingKey, context: Self.dataKeyContext(customer))
    }

    /// The customer's data key from its wrapped form (remembered for later calls).
    func dataKey(for customer: String, wrapped: () throws -> Data?) throws -> SymmetricKey {
        if let key = dataKeys.withLock({ $0[customer] }) { return key }
        guard let wrapped = try wrapped() else { throw SealError("no data key for customer '\(customer)'") }
        guard let bytes = try? Self.open(wrapped, key: wrappingKey, context: Self.dataKeyContext(customer)) else {
            throw SealError("the data key of customer '\(customer)' does not open with this store's key")
        }
        let key = SymmetricKey(data: bytes)
        dataKeys.withLock { $0[customer] = key }
        return key
    }

    /// The customer's data key from the key store kept apart (`keys`); with `create`, a
    /// new one if it has none, kept there when the transaction commits. A destroyed key
    /// (an erasure) is never made again: sealing or opening that customer's values fails.
    func apartDataKey(for customer: String, create: Bool, in keys: any CustomerKeyStore) throws -> SymmetricKey {
        if let key = dataKeys.withLock({ $0[customer] }) ?? pendingKeys.withLock({ $0[customer] }) { return key }
        switch try keys.key(of: customer) {
        case .found(let key):
            dataKeys.withLock { $0[customer] = key }
            return key
        case .destroyed:
            throw SealError("the data key of customer '\(customer)' was destroyed: the customer was erased")
        case .missing:
            guard create else { throw SealError("the key store holds no data key for customer '\(customer)'") }
            let key = SymmetricKey(size: .bits256)
            pendingKeys.withLock { $0[customer] = key }
            return key
        }
    }

    /// Keeps the data keys made in this transaction in the key store apart, durably,
    /// before the transaction commits (a throw here rolls it back).
    func storePendingKeys() throws {
        guard let customerKeys else { return }
        let pending = pendingKeys.withLock { $0 }
        guard !pending.isEmpty else { return }
        try customerKeys.store(pending)
        pendingKeys.withLock { $0.removeAll() }
        dataKeys.withLock { $0.merge(pending) { kept, _ in kept } }
    }

    /// Forgets the customer's data key (its row was deleted: an erasure).
    func forget(_ customer: String) {
        _ = dataKeys.withLock { $0.removeValue(forKey: customer) }
    }

    /// Forgets every data key: a write transaction rolled back, and a key it read
    /// (made in it, never committed) must not seal anything later.
    func forgetAll() {
        dataKeys.withLock { $0.removeAll() }
        pendingKeys.withLock { $0.removeAll() }
    }

    /// The records key: for what belongs to no one customer.
    var keyForRecords: SymmetricKey { recordsKey }

    // MARK: Sealing

    /// Seals `plaintext` under `key` with a random nonce, `context` bound.
    static func seal(_ plaintext: Data, key: SymmetricKey, context: Data) throws -> Data {
        let box = try AES.GCM.seal(plaintext, using: key, authenticating: context)
        guard let combined = box.combined else { throw SealError("AES-GCM gave no combined form") }
        return Data([sealedVersion]) + combined
    }

    /// Seals `plaintext` under `key` with a nonce derived from it: the same value
    /// seals to the same bytes (for set elements, which are looked up by value).
    /// `scope` (the set's field) goes into the nonce: the same element of two sets seals differently.
    static func sealDeterministic(_ plaintext: Data, key: SymmetricKey, context: Data, scope: String) throws -> Data {
        let mac = HMAC<SHA256>.authenticationCode(for: context + Data([0]) + Data(scope.utf8) + Data([0]) + plaintext, using: key)
        let nonce = try AES.GCM.Nonce(data: Data(mac).prefix(12))
        let box = try AES.GCM.seal(plaintext, using: key, nonce: nonce, authenticating: context)
        guard let combined = box.combined else { throw SealError("AES-GCM gave no combined form") }
        return Data([sealedVersion]) + combined
    }

    /// Opens a sealed value; throws if it was not sealed under `key` with `context`.
    static func open(_ sealed: Data, key: SymmetricKey, context: Data) throws -> Data {
        guard sealed.first == sealedVersion else { throw SealError("a sealed value of an unknown version") }
        let box = try AES.GCM.SealedBox(combined: sealed.dropFirst())
        return try AES.GCM.open(box, using: key, authenticating: context)
    }

    private static func derive(_ key: SymmetricKey, _ info: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data(info.utf8), outputByteCount: 32)
    }

    private static let secretContext = Data("oxpecker store secret".utf8)
    private static func dataKeyContext(_ customer: String) -> Data { Data("oxpecker customer key \(customer)".utf8) }
}

/// A value that could not be sealed or opened; the statement fails with this message.
struct SealError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
