import Foundation
import GRDB
import OxpeckerProtocol

/// A schema migration of the sync server's own tables, which live in the same
/// SQLite file as the server's materialized customer state so that a push is one
/// transaction over both.
@_spi(OxpeckerServer)
public struct ServerMigration: Sendable {
    /// A unique, never reused name; it must not collide with the store's own.
    public let name: String
    /// Creates or changes the server's tables.
    public let migrate: @Sendable (Database) throws -> Void

    public init(name: String, migrate: @escaping @Sendable (Database) throws -> Void) {
        self.name = name
        self.migrate = migrate
    }
}

@_spi(OxpeckerServer)
extension CustomerStore {
    /// Opens the server's state store at `path`, creating it if missing, and runs
    /// the store's migrations followed by the server's.
    public static func openServerState(
        at path: String, options: StoreOptions = StoreOptions(), migrations: [ServerMigration]
    ) throws -> CustomerStore {
        let names = migrations.map(\.name)
        if !FileManager.default.fileExists(atPath: path) {
            try create(at: path, options: options).close()
        }
        let record = try checkIdentity(path: path, alsoKnown: names)
        let ring = try StoreEncryption.ring(for: record, key: options.key, path: path, customerKeys: options.customerKeys)
        return try mapErrors(path: path) {
            let pool = try DatabasePool(path: path, configuration: configuration(options, ring: ring))
            var migrator = StoreSchema.migrator
            for migration in migrations {
                migrator.registerMigration(migration.name, migrate: migration.migrate)
            }
            let pending = try pool.read { db in try !migrator.hasCompletedMigrations(db) }
            try migrator.migrate(pool)
            // A migration may rewrite personal data away (a redacted text): its earlier pages go from the write-ahead log too.
            if pending {
                _ = try pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
            }
            return try CustomerStore(path: path, pool: pool, options: options, keyRing: ring)
        }
    }

    /// Checks, without changing anything, that `path` is a server state store this build can
    /// open: an SQLite file with the store's application id, no migration beyond this build's
    /// and `migrations`. Throws ``StoreError/notAnOxpeckerStore(path:reason:)`` or
    /// ``StoreError/schemaTooNew(found:supported:)``.
    public static func checkServerState(at path: String, migrations: [ServerMigration]) throws {
        try checkIdentity(path: path, alsoKnown: migrations.map(\.name))
    }

    /// Whether the server state store at `path` keeps its personal data encrypted
    /// (checked as ``checkServerState(at:migrations:)`` checks, without a key).
    public static func serverStateIsEncrypted(at path: String, migrations: [ServerMigration]) throws -> Bool {
        try checkIdentity(path: path, alsoKnown: migrations.map(\.name)) != nil
    }

    /// A write transaction with the store's writer and the database itself, for
    /// the server's own tables.
    public func writeDatabase<T: Sendable>(_ body: @escaping @Sendable (StoreWriter, Database) throws -> T) async throws -> T {
        do {
            return try await pool.writeWithoutTransaction { db in
                try self.transaction(db) { writer in try body(writer, db) }
            }
        } catch let error as DatabaseError {
            throw Self.translate(error, path: path)
        }
    }

    /// ``writeDatabase(_:)`` for a caller that is not async (the server opening its data).
    public func writeDatabaseNow<T>(_ body: (StoreWriter, Database) throws -> T) throws -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                try self.transaction(db) { writer in try body(writer, db) }
            }
        } catch let error as DatabaseError {
            throw Self.translate(error, path: path)
        }
    }

    /// Destroys the data key of `customer` in the key store kept apart (an erasure on the
    /// server: every copy of their sealed values, backups included, stops opening).
    /// Nothing to do on a plain store or one whose keys live in it (its erasure deletes the key).
    public func destroyDataKey(of customer: CustomerID) throws {
        guard let ring = keyRing, let keys = ring.customerKeys else { return }
        try keys.destroyKey(of: customer.rawValue)
        ring.forget(customer.rawValue)
    }

    /// Whether the data key of `customer` is still in the key store kept apart
    /// (false on a store without one).
    public func holdsDataKey(of customer: CustomerID) throws -> Bool {
        guard let keys = keyRing?.customerKeys else { return false }
        if case .found = try keys.key(of: customer.rawValue) { return true }
        return false
    }

    /// The customers whose data keys the key store kept apart destroyed (empty without one).
    public func destroyedDataKeys() throws -> [CustomerID] {
        try keyRing?.customerKeys?.destroyedCustomers().map { CustomerID(unchecked: $0) } ?? []
    }

    /// A read on a snapshot of the database, for the server's own tables.
    public func readDatabase<T: Sendable>(_ body: @escaping @Sendable (StoreReader, Database) throws -> T) async throws -> T {
        let path = self.path
        do {
            return try await pool.read { db in try body(StoreReader(db: db), db) }
        } catch let error as DatabaseError {
            throw Self.translate(error, path: path)
        }
    }
}
