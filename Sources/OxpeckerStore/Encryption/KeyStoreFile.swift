import Crypto
import Foundation
import GRDB

/// A key store in a file of its own (SQLite): the customers' data keys of the
/// sync server's encrypted data, each wrapped by the server's key, kept apart from
/// the data so that no copy of the data (a backup, a dead page) holds them.
///
/// Destroying a key (an erasure) deletes its row with `secure_delete` on and
/// empties the write-ahead log, and remembers the customer in `destroyed_key`
/// (ids only): a customer erased once never gets a key again, and a server
/// restored from a backup made before the erasure knows to erase them again.
///
/// A key store has an id; the data it serves records it, and a key store of
/// other data is refused.
@_spi(OxpeckerServer)
public final class KeyStoreFile: CustomerKeyStore {
    public let path: String
    /// This key store's id (random, made with it).
    public let id: String
    private let queue: DatabaseQueue
    private let wrapping: KeyStoreWrapping

    /// "OXKS": tells a key store from a customer store or any other SQLite file.
    static let applicationID: Int32 = 0x4F58_4B53

    /// Opens the key store at `path` under `key`, making a new one there if no file exists.
    ///
    /// Throws ``StoreError/wrongKey(path:)`` for a key that is not this key store's, and
    /// ``StoreError/keyUnusable(reason:)`` for a file that is not a key store.
    public static func openOrCreate(at path: String, key: StoreKey) throws -> KeyStoreFile {
        if FileManager.default.fileExists(atPath: path) { return try open(at: path, key: key) }
        return try create(at: path, key: key)
    }

    /// Opens the existing key store at `path`; throws ``StoreError/keyUnusable(reason:)`` if there is none.
    public static func open(at path: String, key: StoreKey) throws -> KeyStoreFile {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError.keyUnusable(reason: "no key store at '\(path)'")
        }
        let queue = try CustomerStore.mapErrors(path: path) { try DatabaseQueue(path: path, configuration: configuration()) }
        let row = try CustomerStore.mapErrors(path: path) {
            try queue.read { db -> Row? in
                let application = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
                guard application == applicationID, try db.tableExists("key_store") else { return nil }
                return try Row.fetchOne(db, sql: "SELECT id, kdf, salt, check_value FROM key_store")
            }
        }
        guard let row else { throw StoreError.keyUnusable(reason: "'\(path)' is not an Oxpecker key store") }
        let wrapping = try KeyStoreWrapping(
            record: KeyStoreWrapping.Record(id: row[0], kdf: row[1], salt: row[2], check: row[3]), key: key, location: path)
        return KeyStoreFile(path: path, queue: queue, wrapping: wrapping)
    }

    /// Makes a new, empty key store at `path` (mode 0600) under `key`.
    public static func create(at path: String, key: StoreKey) throws -> KeyStoreFile {
        guard !FileManager.default.fileExists(atPath: path) else { throw StoreError.storeExists(path: path) }
        let (record, wrapping) = try KeyStoreWrapping.new(key: key)
        let queue = try CustomerStore.mapErrors(path: path) {
            let queue = try DatabaseQueue(path: path, configuration: configuration())
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA application_id = \(applicationID)")
            }
            try queue.write { db in
                try db.execute(
                    sql: """
                        CREATE TABLE key_store (
                            singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                            id TEXT NOT NULL,
                            kdf TEXT NOT NULL,
                            salt BLOB NOT NULL,
                            check_value BLOB NOT NULL,
                            created_at TEXT NOT NULL
                        );
                        CREATE TABLE customer_key (
                            customer_id TEXT PRIMARY KEY NOT NULL,
                            wrapped BLOB NOT NULL
                        ) WITHOUT ROWID;
                        CREATE TABLE destroyed_key (
                            customer_id TEXT PRIMARY KEY NOT NULL,
                            destroyed_at TEXT NOT NULL
                        ) WITHOUT ROWID;
                        """)
                try db.execute(
                    sql: "INSERT INTO key_store (singleton, id, kdf, salt, check_value, created_at) VALUES (1, ?, ?, ?, ?, ?)",
                    arguments: [record.id, record.kdf, record.salt, record.check, Date().ISO8601Format()])
            }
            return queue
        }
        chmod(path, 0o600)
        return KeyStoreFile(path: path, queue: queue, wrapping: wrapping)
    }

    private init(path: String, queue: DatabaseQueue, wrapping: KeyStoreWrapping) {
        self.path = path
        self.id = wrapping.id
        self.queue = queue
        self.wrapping = wrapping
    }

    /// Read from the file each time: the store's key ring keeps the keys it has read.
    public func key(of customer: String) throws -> CustomerKeyLookup {
        let (wrapped, destroyed): (Data?, Bool) = try CustomerStore.mapErrors(path: path) {
            try queue.read { db in
                let wrapped = try Data.fetchOne(
                    db.cachedStatement(sql: "SELECT wrapped FROM customer_key WHERE customer_id = ?"), arguments: [customer])
                if wrapped != nil { return (wrapped, false) }
                let destroyed = try Bool.fetchOne(
                    db.cachedStatement(sql: "SELECT 1 FROM destroyed_key WHERE customer_id = ?"), arguments: [customer]) ?? false
                return (nil, destroyed)
            }
        }
        guard let wrapped else { return destroyed ? .destroyed : .missing }
        return .found(try wrapping.unwrap(wrapped, of: customer, location: path))
    }

    public func store(_ new: [String: SymmetricKey]) throws {
        try CustomerStore.mapErrors(path: path) {
            try queue.write { db in
                let destroyed = try db.cachedStatement(sql: "SELECT 1 FROM destroyed_key WHERE customer_id = ?")
                let insert = try db.cachedStatement(sql: "INSERT INTO customer_key (customer_id, wrapped) VALUES (?, ?)")
                for (customer, key) in new.sorted(by: { $0.key < $1.key }) {
                    if try Bool.fetchOne(destroyed, arguments: [customer]) ?? false {
                        throw SealError("customer '\(customer)' was erased: their data key was destroyed and is never made again")
                    }
                    try insert.execute(arguments: [customer, try wrapping.wrap(key, of: customer)])
                }
            }
        }
    }

    public func destroyKey(of customer: String) throws {
        try CustomerStore.mapErrors(path: path) {
            try queue.write { db in
                try db.execute(sql: "DELETE FROM customer_key WHERE customer_id = ?", arguments: [customer])
                try db.execute(
                    sql: "INSERT OR IGNORE INTO destroyed_key (customer_id, destroyed_at) VALUES (?, ?)",
                    arguments: [customer, Date().ISO8601Format()])
            }
            // The old page, key included, leaves the write-ahead log; secure_delete zeroed it in the file.
            _ = try queue.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        }
    }

    public func destroyedCustomers() throws -> [String] {
        try CustomerStore.mapErrors(path: path) {
            try queue.read { db in try String.fetchAll(db, sql: "SELECT customer_id FROM destroyed_key ORDER BY customer_id") }
        }
    }

    /// How many data keys the key store holds.
    public func count() throws -> Int {
        try CustomerStore.mapErrors(path: path) {
            try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM customer_key") ?? 0 }
        }
    }

    private static func configuration() -> Configuration {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA secure_delete = ON")
        }
        return configuration
    }
}
