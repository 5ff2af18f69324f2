import Crypto
import Foundation
import GRDB

/// Whether a store is encrypted, and with what: the `store_crypto` row
/// (schema v4). A plain store has no row; an encrypted one has exactly one, made
/// with the store, together with the trigger that gives every new customer a data key.
enum StoreEncryption {
    /// What `store_crypto` holds: how the wrapping key is derived, and the wrapped store secret.
    struct Record {
        let kdf: String
        let salt: Data
        let wrappedSecret: Data
    }

    /// The record of the store at `db`, or nil for a plain store (or one from before v4).
    static func record(in db: Database) throws -> Record? {
        guard try db.tableExists("store_crypto"),
            let row = try Row.fetchOne(db, sql: "SELECT kdf, salt, wrapped_secret FROM store_crypto")
        else { return nil }
        return Record(kdf: row[0], salt: row[1], wrappedSecret: row[2])
    }

    /// The ring a store with `record` opens with under `key`: refuses a missing
    /// key, a key for a plain store and a wrong key, each with its own error.
    /// `customerKeys`: where the customers' data keys live if not in the store (the server's key store).
    static func ring(for record: Record?, key: StoreKey?, path: String, customerKeys: (any CustomerKeyStore)? = nil) throws -> KeyRing? {
        switch (record, key) {
        case (nil, nil): return nil
        case (nil, .some): throw StoreError.notEncrypted(path: path)
        case (.some, nil): throw StoreError.keyRequired(path: path)
        case (.some(let record), .some(let key)):
            return try KeyRing(
                wrappingKey: wrappingKey(for: record, key: key, path: path), wrappedSecret: record.wrappedSecret, path: path,
                customerKeys: customerKeys)
        }
    }

    /// The key that wraps the secret of a store with `record`, from `key`; refuses a
    /// passphrase for a store made with a key and the reverse (``StoreError/wrongKey(path:)``),
    /// and a plain store (``StoreError/notEncrypted(path:)``).
    static func wrappingKey(for record: Record?, key: StoreKey, path: String) throws -> SymmetricKey {
        guard let record else { throw StoreError.notEncrypted(path: path) }
        switch key.material {
        case .passphrase where record.kdf == "none", .key where record.kdf != "none":
            throw StoreError.wrongKey(path: path)
        default:
            return try KeyRing.wrappingKey(for: key, salt: record.salt)
        }
    }

    /// A new record for a store being made with `key`.
    static func newRecord(for key: StoreKey) throws -> Record {
        let salt = SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) }
        let wrapping = try KeyRing.wrappingKey(for: key, salt: salt)
        return Record(kdf: KeyRing.kdfName(for: key), salt: salt, wrappedSecret: try KeyRing.newWrappedSecret(wrappingKey: wrapping))
    }

    /// Saves `record` and installs the triggers that keep `customer_key`, in the store's first transaction.
    ///
    /// A customer's data key is made with its first row and outlives a purge (the
    /// customer left this device's scopes and may come back: its key is the same, so
    /// a key, once committed, never changes). An erasure deletes it: whatever copy of
    /// the customer's sealed values is left (a free page, a backup of the file made
    /// before) no longer opens with this store's key. The ring forgets a deleted key.
    ///
    /// `keysApart`: the data keys live in a key store of their own (``CustomerKeyStore``),
    /// `customer_key` stays empty and no trigger is installed.
    static func install(_ record: Record, in db: Database, at instant: String, keysApart: Bool = false) throws {
        try db.execute(
            sql: "INSERT INTO store_crypto (singleton, kdf, salt, wrapped_secret, created_at) VALUES (1, ?, ?, ?, ?)",
            arguments: [record.kdf, record.salt, record.wrappedSecret, instant])
        guard !keysApart else { return }
        try db.execute(
            sql: """
                CREATE TRIGGER customer_key_for_new_customer AFTER INSERT ON customer
                WHEN NOT EXISTS (SELECT 1 FROM customer_key WHERE customer_id = NEW.id) BEGIN
                    INSERT INTO customer_key (customer_id, wrapped) VALUES (NEW.id, oxp_new_key(NEW.id));
                END;
                CREATE TRIGGER customer_key_of_erased_customer AFTER INSERT ON erased_customer BEGIN
                    DELETE FROM customer_key WHERE customer_id = NEW.id;
                END;
                CREATE TRIGGER customer_key_forgotten AFTER DELETE ON customer_key BEGIN
                    SELECT oxp_forget_key(OLD.customer_id);
                END
                """)
    }

    /// v4: the tables of encryption (empty in a plain store).
    static func createTables(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE store_crypto (
                    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                    kdf TEXT NOT NULL,
                    salt BLOB NOT NULL,
                    wrapped_secret BLOB NOT NULL,
                    created_at TEXT NOT NULL
                );
                CREATE TABLE customer_key (
                    customer_id TEXT PRIMARY KEY NOT NULL,
                    wrapped BLOB NOT NULL
                ) WITHOUT ROWID;
                """)
    }
}
