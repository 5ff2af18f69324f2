import Foundation
import Logging
import OxpeckerProtocol
import OxpeckerStore
import PostgresNIO

/// The backend for many server instances over one PostgreSQL database.
///
/// Instances keep no state of their own that matters, so a device may push to
/// one and pull from another. The tables and the rules are the SQLite
/// backend's (`SQLiteServerStorage`): the same change log, subscriptions,
/// erasures, audit trail and tokens, judged by the same pure rules
/// (`PushRules`, `ValidatedChange`, `AddWinsSet`, `Reconciliation`). What
/// differs: there is no materialized customer store; a customer's scopes live
/// in `customer_scope`, and the merged state (for `export`) is the log
/// replayed into a throwaway customer store, merged by the same code as every
/// device's. How the log's order stays safe under concurrent writers is
/// described on `push` (PostgresServerStorage+Push.swift).
///
/// Every call is bounded by the statement timeout; when the database is away
/// it fails with `storage_unavailable` (HTTP 503), and the next call after the
/// database is back succeeds: the pool opens new connections as needed.
public final class PostgresServerStorage: ServerStorage {
    public let replica: ReplicaID
    public let settings: PostgresSettings
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>
    /// How the log's bodies are kept: sealed under a key store's keys on encrypted data.
    let bodies: PostgresLogBodies

    /// Connects, applies the migrations not applied yet, and reads the server's
    /// replica id (made by the first instance). Fails with `storage_unavailable`
    /// and a message naming the database if it cannot be reached within the connect timeout.
    ///
    /// With `encryption` (its key store a `postgres://` URL of another database), new data
    /// is made encrypted and encrypted data is opened (``PostgresServerEncryption``); plain
    /// data with a log refuses a key and encrypted data needs one (`StoreError.notEncrypted`,
    /// `.keyRequired`, `.wrongKey`, `.keyUnusable`), and so does a key store that is missing,
    /// the data's own database, or another data's. Opening encrypted data also finishes
    /// what an erasure left undone, as the embedded backend does.
    public static func connect(
        _ settings: PostgresSettings, encryption: ServerEncryption? = nil, logger: Logger = Logger(label: "oxpecker-server.postgres")
    ) async throws -> PostgresServerStorage {
        // The pool logs every failed connection attempt at info: while the database is away, only warnings.
        var background = logger
        background.logLevel = max(logger.logLevel, .warning)
        let client = PostgresClient(configuration: try settings.clientConfiguration(), backgroundLogger: background)
        let runner = Task { await client.run() }
        do {
            try await PostgresFailure.guarding("connecting to \(settings.redacted)", limit: settings.connectTimeout * 2) {
                for try await _ in try await client.query("SELECT 1", logger: logger) {}
            }
            // Reached: the migrations may take long (another instance's first, a rewrite of a large log).
            _ = try await PostgresFailure.guarding("applying migrations", limit: nil) {
                try await PostgresSchema.migrate(client, logger: logger)
            }
            let replica = try await PostgresFailure.guarding("reading the server's replica", limit: settings.connectTimeout * 2) {
                for try await _ in try await client.query(
                    "INSERT INTO server_identity (replica) VALUES (\(ReplicaID.random().rawValue)) ON CONFLICT DO NOTHING", logger: logger) {}
                for try await replica in try await client.query("SELECT replica FROM server_identity", logger: logger).decode(String.self) {
                    return ReplicaID(unchecked: replica)
                }
                throw ServerError(.internalError, "server_identity is empty")
            }
            let keys = try await PostgresServerEncryption.open(encryption, data: settings, client: client, logger: logger)
            let storage = PostgresServerStorage(
                replica: replica, settings: settings, client: client, logger: logger, runner: runner, bodies: PostgresLogBodies(keys: keys))
            do {
                try await storage.settleDestroyedKeys(at: Instant(millisecondsSince1970: WallClock.system.now()))
            } catch {
                await keys?.shutdown()
                throw error
            }
            return storage
        } catch {
            runner.cancel()
            await runner.value
            if let error = error as? ServerError, error.code == .storageUnavailable {
                throw ServerError(.storageUnavailable, "cannot reach PostgreSQL at \(settings.redacted): \(error.message)")
            }
            if let error = error as? PSQLError {
                throw ServerError(.storageUnavailable, "cannot use PostgreSQL at \(settings.redacted): \(PostgresFailure.summary(of: error))")
            }
            if let error = error as? PostgresTransactionError,
                let failure = [error.beginError, error.closureError, error.commitError].compactMap({ $0 as? PSQLError }).first
            {
                throw ServerError(.storageUnavailable, "cannot use PostgreSQL at \(settings.redacted): \(PostgresFailure.summary(of: failure))")
            }
            throw error
        }
    }

    private init(
        replica: ReplicaID, settings: PostgresSettings, client: PostgresClient, logger: Logger, runner: Task<Void, Never>, bodies: PostgresLogBodies
    ) {
        self.replica = replica
        self.settings = settings
        self.client = client
        self.logger = logger
        self.runner = runner
        self.bodies = bodies
    }

    /// Whether the data is kept encrypted (``PostgresServerEncryption``).
    public var isEncrypted: Bool { bodies.isEncrypted }

    /// The key store of encrypted data (nil: plain data).
    public var keyStore: PostgresKeyStore? { bodies.keys }

    /// Closes the pool's connections (the key store's too).
    public func shutdown() async {
        await bodies.keys?.shutdown()
        runner.cancel()
        await runner.value
    }

    /// Runs `body` in one transaction within the statement timeout, with database
    /// failures as `storage_unavailable`. `snapshot`: REPEATABLE READ, every
    /// statement sees the same committed state (a page and the log's top agree).
    func transaction<T: Sendable>(
        _ what: String, snapshot: Bool = false, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await PostgresFailure.guarding(what, limit: settings.statementTimeout) { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                if snapshot { try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", logger: logger) }
                return try await body(connection)
            }
        }
    }

    public func cursorKey() async throws -> [UInt8] {
        try CursorSeal.key(
            hex: try await transaction("reading the cursor key") { connection in
                try await connection.one("SELECT value FROM server_secret WHERE name = 'cursor_key'", as: String.self)
            })
    }

    public func checkReady() async throws {
        _ = try await transaction("readiness") { connection in try await connection.run("SELECT 1 FROM change_log LIMIT 1") }
    }

    /// How many changes the log holds.
    public func logCount() async throws -> Int {
        try await transaction("counting the log") { connection in
            try await connection.one("SELECT count(*)::bigint FROM change_log", as: Int.self) ?? 0
        }
    }

    public func statistics() async throws -> StorageStatistics {
        try await transaction("reading statistics", snapshot: true) { connection in
            let changes = try await connection.one("SELECT count(*)::bigint FROM change_log", as: Int.self) ?? 0
            let head = try await connection.one("SELECT coalesce(max(position), 0) FROM change_log", as: Int64.self) ?? 0
            let purges = try await connection.one(
                """
                SELECT count(*)::bigint FROM (
                    SELECT subscription, customer FROM holding WHERE customer IN (SELECT customer FROM erasure)
                    UNION SELECT subscription, customer FROM pending_holding WHERE held AND customer IN (SELECT customer FROM erasure)) AS p
                """, as: Int.self) ?? 0
            // A guarded field is in conflict when its writes have more than one head, by the store's own rule.
            var writes: [String: [CausalWrite]] = [:]
            var logged: [(customer: String, field: String, body: String)] = []
            let rows = try await connection.query(
                """
                SELECT customer, field, body FROM change_log l
                WHERE kind = 'guarded_register' AND EXISTS (
                    SELECT 1 FROM change_log o WHERE o.customer = l.customer AND o.field = l.field AND o.kind = 'guarded_register' AND o.position <> l.position)
                """, logger: connection.logger)
            for try await row in rows.decode((String, String, String).self) { logged.append(row) }
            let codec = WireCodec()
            for (row, body) in zip(logged, try await self.bodies.opened(logged.map { ($0.customer, $0.body) })) {
                guard let body else { continue }
                let (customer, field) = (row.customer, row.field)
                let change = try codec.decode(Change.self, from: body)
                writes[customer + "\u{1F}" + field, default: []].append(CausalWrite(hlc: change.hlc, value: change.value, observed: change.observed))
            }
            let conflicts = writes.values.filter { CausalRegister($0).isConflict }.count
            let horizon = try await connection.one("SELECT horizon FROM log_compaction", as: String.self)
            let subscriptions = try await connection.one("SELECT count(*)::bigint FROM subscription", as: Int.self) ?? 0
            return StorageStatistics(
                logChanges: changes, logHead: head, openConflicts: conflicts, purgesPending: purges,
                horizon: try horizon.map { try Instant(parsing: $0) }, subscriptions: subscriptions)
        }
    }

    /// The merged state: the log replayed, in order, into a throwaway customer
    /// store (a temporary file), merged by the same code as every device's and
    /// as the SQLite backend's state.
    public func exportState() async throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("oxpecker-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var options = StoreOptions(durability: .normal)
        // Encrypted data is never written out clear, not even to a throwaway file: sealed under a key used once.
        if isEncrypted { options.key = .generate() }
        let store = try CustomerStore.create(at: folder.appendingPathComponent("state.oxpecker").path, options: options)
        defer { try? store.close() }
        // Every change committed before the export began, once the pushes older than it end.
        let stableTop = try await awaitStableLog()
        let codec = WireCodec()
        var position: Int64 = 0
        while true {
            let page = try await transaction("exporting") { [position] connection in
                var page: [(Int64, String, String)] = []
                // Up to the stable top: a push still in flight lands above it.
                let rows = try await connection.query(
                    "SELECT position, customer, body FROM change_log WHERE position > \(position) AND position <= \(stableTop) ORDER BY position LIMIT 5000",
                    logger: connection.logger)
                for try await row in rows.decode((Int64, String, String).self) { page.append(row) }
                return page
            }
            guard let last = page.last else { break }
            let opened = try await bodies.openedKept(page.map { ($0.1, $0.2) })
            _ = try await store.apply(try opened.map { try codec.decode(Change.self, from: $0) })
            position = last.0
        }
        return try await store.read { reader in
            var text = ""
            try reader.exportJSON { text += $0 }
            return text
        }
    }
}

extension PostgresConnection {
    /// The first column of the first row of `query`, or nil if it returns none.
    func one<T: PostgresDecodable & Sendable>(_ query: PostgresQuery, as type: T.Type) async throws -> T? {
        for try await value in try await self.query(query, logger: logger).decode(T.self) { return value }
        return nil
    }

    /// Runs `query` for its effect; returns how many rows it returned (with `RETURNING`).
    @discardableResult
    func run(_ query: PostgresQuery) async throws -> Int {
        var count = 0
        for try await _ in try await self.query(query, logger: logger) { count += 1 }
        return count
    }
}

extension PostgresServerStorage {
    /// Gives the database a new log identity (``LogIdentity``) after `pg_restore`: a new cursor key
    /// and a new server replica id, in one transaction; returns the id. Every instance caches
    /// both from its start: run it with every instance stopped.
    public func renewLogIdentity() async throws -> ReplicaID {
        let replica = ReplicaID.random()
        let key = CursorSeal.newKeyHex()
        try await transaction("renewing the log identity") { connection in
            guard try await connection.run("UPDATE server_secret SET value = \(key) WHERE name = 'cursor_key' RETURNING name") == 1,
                try await connection.run("UPDATE server_identity SET replica = \(replica.rawValue) RETURNING replica") == 1
            else { throw ServerError(.internalError, "the database has no cursor key or server identity to renew") }
        }
        return replica
    }
}
