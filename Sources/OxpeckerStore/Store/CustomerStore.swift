import Foundation
import GRDB
import OxpeckerProtocol
import Synchronization

/// A customer store: one SQLite file on a device, holding customers, their
/// context and notes, and the outbox of changes waiting to be synced.
///
/// Safe to share across tasks: reads run concurrently and never wait for the
/// writer (WAL, a GRDB `DatabasePool`); writes are serialized, one transaction each.
///
/// ```swift
/// let store = try CustomerStore.create(at: "branch.oxpecker")
/// try await store.write { try $0.createCustomer("c-1001") }
/// let profile = try await store.profile(of: "c-1001")
/// ```
public final class CustomerStore: Sendable {
    /// The store file's path.
    public let path: String
    /// The replica id, made when the store was created; it never changes.
    public let replica: ReplicaID
    let pool: DatabasePool
    let options: StoreOptions
    /// The keys of an encrypted store; nil for a plain one.
    let keyRing: KeyRing?
    /// Whether the write-ahead log may still hold data a committed write removed
    /// (its checkpoint could not finish); see ``transaction(_:_:)``.
    let walHoldsRemovedData = Mutex(false)

    /// Whether the store keeps personal data sealed under its key (``StoreOptions/key``).
    public var isEncrypted: Bool { keyRing != nil }

    init(path: String, pool: DatabasePool, options: StoreOptions, keyRing: KeyRing?) throws {
        self.path = path
        self.pool = pool
        self.options = options
        self.keyRing = keyRing
        let id = try pool.read { db in try String.fetchOne(db, sql: "SELECT replica_id FROM store_info") }
        guard let id, let replica = ReplicaID(rawValue: id) else {
            throw StoreError.notAnOxpeckerStore(path: path, reason: "it has no replica id")
        }
        self.replica = replica
    }

    /// Creates a new store at `path` with a new replica id, encrypted if `options`
    /// has a key. Throws ``StoreError/storeExists(path:)`` if a file is already there.
    public static func create(at path: String, options: StoreOptions = StoreOptions()) throws -> CustomerStore {
        guard !FileManager.default.fileExists(atPath: path) else { throw StoreError.storeExists(path: path) }
        let record = try options.key.map(StoreEncryption.newRecord)
        let ring = try StoreEncryption.ring(for: record, key: options.key, path: path, customerKeys: options.customerKeys)
        return try mapErrors(path: path) {
            let pool = try DatabasePool(path: path, configuration: configuration(options, ring: ring))
            try StoreSchema.migrator.migrate(pool)
            try pool.write { db in
                let now = Instant(millisecondsSince1970: options.clock.now()).description
                try db.execute(
                    sql: "INSERT INTO store_info (singleton, replica_id, created_at, next_number) VALUES (1, ?, ?, 1)",
                    arguments: [ReplicaID.random().rawValue, now])
                if let record { try StoreEncryption.install(record, in: db, at: now, keysApart: options.customerKeys != nil) }
            }
            return try CustomerStore(path: path, pool: pool, options: options, keyRing: ring)
        }
    }

    /// Opens the store at `path`, upgrading its schema if it was written by an earlier version.
    ///
    /// Throws ``StoreError/storeNotFound(path:)``, ``StoreError/notAnOxpeckerStore(path:reason:)``,
    /// ``StoreError/schemaTooNew(found:supported:)``, or for a key that does not fit the store
    /// ``StoreError/keyRequired(path:)``, ``StoreError/wrongKey(path:)`` or
    /// ``StoreError/notEncrypted(path:)``, and changes nothing in those cases.
    public static func open(at path: String, options: StoreOptions = StoreOptions()) throws -> CustomerStore {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw StoreError.storeNotFound(path: path)
        }
        guard !isDirectory.boolValue else { throw StoreError.notAnOxpeckerStore(path: path, reason: "it is a directory") }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw StoreError.notAnOxpeckerStore(path: path, reason: "the file cannot be read (permissions)")
        }
        let record = try checkIdentity(path: path, alsoKnown: [])
        let ring = try StoreEncryption.ring(for: record, key: options.key, path: path, customerKeys: options.customerKeys)
        return try mapErrors(path: path) {
            let pool = try DatabasePool(path: path, configuration: configuration(options, ring: ring))
            try StoreSchema.migrator.migrate(pool)
            return try CustomerStore(path: path, pool: pool, options: options, keyRing: ring)
        }
    }

    /// Reads the file's header and schema without changing anything, so that a
    /// foreign or newer file is refused before a migration could touch it; returns
    /// the store's encryption record (nil: a plain store).
    @discardableResult
    static func checkIdentity(path: String, alsoKnown: [String]) throws -> StoreEncryption.Record? {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StoreError.notAnOxpeckerStore(path: path, reason: "the file cannot be read")
        }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        try? handle.close()
        guard header.count == 16, String(decoding: header, as: UTF8.self) == "SQLite format 3\0" else {
            throw StoreError.notAnOxpeckerStore(path: path, reason: "it is not an SQLite database")
        }
        var configuration = Configuration()
        configuration.readonly = true
        let (applicationID, userVersion, applied, record): (Int32, Int, [String], StoreEncryption.Record?) = try mapErrors(path: path) {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            return try queue.read { db in
                let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
                let userVersion = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                let applied = try db.tableExists("grdb_migrations") ? try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") : []
                return (applicationID, userVersion, applied, try StoreEncryption.record(in: db))
            }
        }
        guard applicationID == StoreSchema.applicationID else {
            throw StoreError.notAnOxpeckerStore(path: path, reason: "it is an SQLite database of another application")
        }
        let unknown = applied.filter { !StoreSchema.migrationNames.contains($0) && !alsoKnown.contains($0) }
        guard unknown.isEmpty, userVersion <= StoreSchema.currentVersion else {
            throw StoreError.schemaTooNew(found: max(userVersion, applied.count), supported: StoreSchema.currentVersion)
        }
        return record
    }

    /// `ring`: the keys the SQL functions seal and open personal values with (nil: hand them through).
    static func configuration(_ options: StoreOptions, ring: KeyRing?) -> Configuration {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(options.busyTimeoutSeconds)
        let synchronous = options.durability == .full ? "FULL" : "NORMAL"
        configuration.prepareDatabase { db in
            try SealFunctions.register(ring, on: db)
            if let ring, ring.customerKeys != nil {
                db.add(transactionObserver: PendingKeysObserver(ring: ring), extent: .databaseLifetime)
            }
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            // Purged and erased customers leave no readable trace in freed pages.
            try db.execute(sql: "PRAGMA secure_delete = ON")
            // No memory-mapped reads (mmap_size): they saved about a quarter of the time of
            // opening a customer in a large store, but every mapped page read counts as the
            // process's resident memory, so a device's peak memory grew with its store
            // (40k customers bootstrapped: 126 MiB mapped vs 53 MiB not). Memory stays flat.
        }
        return configuration
    }

    static func mapErrors<T>(path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError {
            throw translate(error, path: path)
        }
    }

    static func translate(_ error: DatabaseError, path: String) -> any Error {
        switch error.resultCode {
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            StoreError.notAnOxpeckerStore(path: path, reason: "the file is damaged or not a database (\(error.message ?? "no detail"))")
        // A full disk is SQLITE_FULL; a file at its size limit (EFBIG) surfaces as a failed write.
        case .SQLITE_FULL:
            StoreError.storageFull(path: path, detail: error.message ?? "SQLite code \(error.extendedResultCode.rawValue)")
        case .SQLITE_IOERR where error.extendedResultCode == .SQLITE_IOERR_WRITE:
            StoreError.storageFull(path: path, detail: error.message ?? "SQLite code \(error.extendedResultCode.rawValue)")
        default:
            StoreError.database(code: error.extendedResultCode.rawValue, message: error.message ?? "\(error)")
        }
    }

    // MARK: Transactions

    /// Runs `body` in one write transaction: every write in it, with its outbox
    /// changes, commits together or not at all.
    @discardableResult
    public func write<T: Sendable>(_ body: @escaping @Sendable (StoreWriter) throws -> T) async throws -> T {
        do {
            return try await pool.writeWithoutTransaction { db in try self.transaction(db, body) }
        } catch let error as DatabaseError {
            throw Self.translate(error, path: path)
        }
    }

    /// The synchronous form of ``write(_:)``, for command-line tools and benchmarks.
    @discardableResult
    public func writeNow<T>(_ body: (StoreWriter) throws -> T) throws -> T {
        try Self.mapErrors(path: path) {
            try pool.writeWithoutTransaction { db in try transaction(db, body) }
        }
    }

    /// One write transaction on the writer connection `db`: `body`'s writes with
    /// the writer's clock, outbox numbers and search index saved before commit.
    ///
    /// A transaction that removed personal data (a redaction, a purge, an erasure)
    /// leaves the pages as they were, text included, in the write-ahead log: right
    /// after the commit, still on the writer, a checkpoint copies the new pages into
    /// the file (where `secure_delete` zeroed the old content) and truncates the log.
    /// A reader busy past the timeout can keep it from finishing; the store then
    /// remembers it and the next write tries again. The commit stands either way.
    func transaction<T>(_ db: Database, _ body: (StoreWriter) throws -> T) throws -> T {
        try db.beginTransaction()
        let result: T
        let removedData: Bool
        do {
            let writer = try StoreWriter(db: db, wallClock: options.clock, pushedChangeRetention: options.pushedChangeRetention)
            result = try body(writer)
            try writer.finish()
            removedData = writer.removedPersonalData
            try db.commit()
        } catch {
            if db.isInsideTransaction { try? db.rollback() }
            keyRing?.forgetAll()
            throw error
        }
        if removedData || walHoldsRemovedData.withLock({ $0 }) {
            let done = (try? db.checkpoint(.truncate)) != nil
            walHoldsRemovedData.withLock { $0 = !done }
        }
        return result
    }

    /// Merges changes from other replicas in one transaction; see ``StoreWriter/apply(_:)``.
    @discardableResult
    public func apply(_ changes: [Change]) async throws -> [ApplyOutcome] {
        try await write { try $0.apply(changes) }
    }

    /// Runs `body` on a consistent snapshot of the store, concurrently with other reads and the writer.
    public func read<T: Sendable>(_ body: @escaping @Sendable (StoreReader) throws -> T) async throws -> T {
        let path = self.path
        do {
            return try await pool.unsafeRead { db in try Self.inReadTransaction(db, body) }
        } catch let error as DatabaseError {
            throw Self.translate(error, path: path)
        }
    }

    /// The synchronous form of ``read(_:)``.
    public func readNow<T>(_ body: (StoreReader) throws -> T) throws -> T {
        try Self.mapErrors(path: path) { try pool.unsafeRead { db in try Self.inReadTransaction(db, body) } }
    }

    /// Runs `body` in one read transaction on `db`, a pooled reader connection (read-only), so
    /// that it reads one snapshot. What GRDB's `read` does, with BEGIN and COMMIT kept prepared:
    /// `read` prepares both anew on every call, a quarter of the time of reading a profile.
    private static func inReadTransaction<T>(_ db: Database, _ body: (StoreReader) throws -> T) throws -> T {
        try db.cachedStatement(sql: "BEGIN DEFERRED TRANSACTION").execute()
        do {
            let result = try body(StoreReader(db: db))
            try db.cachedStatement(sql: "COMMIT TRANSACTION").execute()
            return result
        } catch {
            if !db.isInsideTransaction { throw error }
            try? db.cachedStatement(sql: "ROLLBACK TRANSACTION").execute()
            throw error
        }
    }

    /// Copies the write-ahead log into the database file and empties it, so that
    /// the file alone holds the store (after a purge, nothing purged is left in
    /// the log either).
    public func checkpoint() async throws {
        let path = self.path
        do {
            _ = try await pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        } catch let error as DatabaseError {
            throw Self.translate(error, path: path)
        }
    }

    /// Closes the store; later calls fail.
    public func close() throws {
        try pool.close()
    }
}
