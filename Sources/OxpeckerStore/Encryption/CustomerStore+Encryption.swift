import Crypto
import Foundation
import GRDB
import OxpeckerProtocol

extension CustomerStore {
    /// Encrypts the plain store at `path` in place under `key`: every personal value,
    /// the outbox, the changes kept as pushed or aside and the search index are sealed in one
    /// transaction; then the file is vacuumed and its write-ahead log emptied, so no
    /// clear copy stays in a free page or the log. Run it with no other process on the store.
    ///
    /// Throws ``StoreError/storeNotFound(path:)``, ``StoreError/notAnOxpeckerStore(path:reason:)``
    /// or, for a store that is encrypted already, ``StoreError/keyUnusable(reason:)``; nothing changes then.
    public static func encrypt(at path: String, key: StoreKey, options: StoreOptions = StoreOptions()) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw StoreError.storeNotFound(path: path) }
        guard try checkIdentity(path: path, alsoKnown: []) == nil else {
            throw StoreError.keyUnusable(reason: "'\(path)' is encrypted already: to change its key, rekey it")
        }
        let record = try StoreEncryption.newRecord(for: key)
        let ring = try StoreEncryption.ring(for: record, key: key, path: path)
        try mapErrors(path: path) {
            let pool = try DatabasePool(path: path, configuration: configuration(options, ring: ring))
            defer { try? pool.close() }
            try StoreSchema.migrator.migrate(pool)
            try pool.write { db in
                try StoreEncryption.install(record, in: db, at: Instant(millisecondsSince1970: options.clock.now()).description)
                try db.execute(
                    sql: """
                        INSERT INTO customer_key (customer_id, wrapped)
                            SELECT customer_id, oxp_new_key(customer_id)
                            FROM (SELECT id AS customer_id FROM customer UNION SELECT customer_id FROM outbox UNION SELECT customer_id FROM pushed_change)
                            WHERE customer_id NOT IN (SELECT id FROM erased_customer);
                        UPDATE field_value SET value = oxp_seal_field(customer_id, field, value);
                        UPDATE guarded_write SET value = oxp_seal(customer_id, value);
                        UPDATE set_element SET element = oxp_seal_element(customer_id, field, element);
                        UPDATE note_revision SET text = oxp_seal(customer_id, text);
                        UPDATE note_redaction SET reason = oxp_seal(customer_id, reason);
                        UPDATE life_event SET detail = oxp_seal(customer_id, detail);
                        UPDATE contact SET topic = oxp_seal(customer_id, topic);
                        UPDATE outbox SET value = oxp_seal(customer_id, value);
                        UPDATE pushed_change SET value = oxp_seal(customer_id, value);
                        UPDATE push_rejection SET change = oxp_seal(NULL, change);
                        UPDATE parked_change SET body = oxp_seal(NULL, body);
                        DELETE FROM search_index;
                        """)
                // The index again, from the sealed state: blind tokens only.
                try SearchIndex.indexAll(in: db)
                try db.execute(sql: "INSERT INTO search_index (search_index) VALUES ('optimize')")
            }
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "VACUUM")
                try db.checkpoint(.truncate)
            }
        }
    }

    /// Gives the encrypted store at `path` a new key: the store secret and every
    /// customer's data key are wrapped again under `newKey`, no value is rewritten.
    /// The old key no longer opens the store. Run it with no other process on the store.
    ///
    /// Throws ``StoreError/wrongKey(path:)`` if `key` is not the store's, ``StoreError/notEncrypted(path:)``
    /// for a plain store; nothing changes then.
    public static func rekey(at path: String, from key: StoreKey, to newKey: StoreKey, options: StoreOptions = StoreOptions()) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw StoreError.storeNotFound(path: path) }
        let record = try checkIdentity(path: path, alsoKnown: [])
        let oldWrapping = try StoreEncryption.wrappingKey(for: record, key: key, path: path)
        let secret = try KeyRing.unwrapSecret(record!.wrappedSecret, wrappingKey: oldWrapping, path: path)
        let salt = SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) }
        let newWrapping = try KeyRing.wrappingKey(for: newKey, salt: salt)
        try mapErrors(path: path) {
            let queue = try DatabaseQueue(path: path, configuration: configuration(options, ring: nil))
            defer { try? queue.close() }
            try queue.write { db in
                let rows = try Row.fetchAll(db, sql: "SELECT customer_id, wrapped FROM customer_key")
                let update = try db.makeStatement(sql: "UPDATE customer_key SET wrapped = ? WHERE customer_id = ?")
                for row in rows {
                    let customer: String = row[0]
                    let wrapped = try KeyRing.rewrapDataKey(row[1], of: customer, from: oldWrapping, to: newWrapping)
                    try update.execute(arguments: [wrapped, customer])
                }
                try db.execute(
                    sql: "UPDATE store_crypto SET kdf = ?, salt = ?, wrapped_secret = ?",
                    arguments: [KeyRing.kdfName(for: newKey), salt, try KeyRing.wrapSecret(secret, wrappingKey: newWrapping)])
            }
            // The old wrapped keys leave the log; secure_delete zeroed them in the file.
            try queue.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        }
    }
}
