import Foundation
import GRDB
import OxpeckerProtocol
@_spi(OxpeckerServer) import OxpeckerStore

/// The embedded backend: one SQLite file (`<data-dir>/server.oxpecker`) holding
/// the change log, the device tokens, and the materialized customer state,
/// built by the same merge rules as every device's (it is a customer store).
///
/// A push is one transaction over log and state. SQLite has one writer at a
/// time and log positions are assigned inside the write transaction, so
/// commit order is position order and a puller can never skip a change.
public final class SQLiteServerStorage: ServerStorage {
    let state: CustomerStore
    public var replica: ReplicaID { state.replica }

    /// Opens the storage in `dataDirectory`, creating the folder and the database if needed.
    ///
    /// With `encryption`, new data is made encrypted and encrypted data is opened (see
    /// ``ServerEncryption``); plain data refuses a key and encrypted data needs one
    /// (`StoreError.notEncrypted`, `.keyRequired`, `.wrongKey`), and so does a key store
    /// that is missing, inside the data folder, or another data's. Opening encrypted data
    /// also finishes what an erasure left undone: a customer whose key the key store
    /// destroyed but this data still holds (restored from a backup made before the
    /// erasure) is erased again, and a key that outlived its erasure is destroyed.
    public init(dataDirectory: String, clock: WallClock = .system, encryption: ServerEncryption? = nil) throws {
        try encryption?.checkApart(from: dataDirectory)
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let path = (dataDirectory as NSString).appendingPathComponent("server.oxpecker")
        var options = StoreOptions(clock: clock, durability: .full)
        var keyStore: KeyStoreFile?
        if let encryption {
            let exists = FileManager.default.fileExists(atPath: path)
            if exists, try !CustomerStore.serverStateIsEncrypted(at: path, migrations: ServerSchema.migrations) {
                throw StoreError.notEncrypted(path: path)
            }
            // Encrypted data with no key store has lost its keys: never make an empty one for it.
            let keys =
                exists
                ? try KeyStoreFile.open(at: encryption.keyStore, key: encryption.key)
                : try KeyStoreFile.openOrCreate(at: encryption.keyStore, key: encryption.key)
            // Another data's key store is refused before the data is opened (nothing written).
            if exists, let recorded = try Self.recordedKeyStore(in: path), recorded != keys.id {
                throw StoreError.keyUnusable(
                    reason: "the key store '\(keys.path)' (\(keys.id)) is not the one of the data in '\(dataDirectory)' (\(recorded))")
            }
            options.key = encryption.key
            options.customerKeys = keys
            keyStore = keys
        }
        state = try CustomerStore.openServerState(at: path, options: options, migrations: ServerSchema.migrations)
        if let keyStore {
            try record(keyStore)
            try settleDestroyedKeys(at: Instant(millisecondsSince1970: clock.now()))
        }
    }

    /// Whether the data is kept encrypted (``ServerEncryption``).
    public var isEncrypted: Bool { state.isEncrypted }

    public func token(forHash tokenHash: String) async throws -> TokenRecord? {
        try await state.readDatabase { _, db in
            for kind in TokenKind.allCases {
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT \(Self.tokenColumns(kind)) FROM \(Self.tokenTable(kind)) WHERE token_hash = ?"),
                    arguments: [tokenHash])
                if let row { return try Self.tokenRecord(row, kind: kind) }
            }
            return nil
        }
    }

    public func pull(after cursor: SyncCursor?, limit: Int, for device: DeviceIdentity, replica: ReplicaID?, at now: Instant) async throws -> LogPage {
        let parsed = try cursor.map { cursor throws(ServerError) in try FeedCursor.log(parsing: cursor) }
        if let parsed {
            // Most pulls confirm nothing and find the device's customers unchanged: a read.
            let settled = try await state.readDatabase { _, db in
                let subscriptions = SQLiteSubscriptions(db: db, device: device)
                return try subscriptions.isSettled(parsed, at: now) ? try subscriptions.logPage(after: parsed, limit: limit, excluding: replica) : nil
            }
            if let settled { return settled }
        }
        return try await state.writeDatabase { _, db in
            let subscriptions = SQLiteSubscriptions(db: db, device: device)
            let cursor: FeedCursor.LogCursor
            if let parsed {
                try subscriptions.confirm(subscription: parsed.subscription, seq: parsed.seq, at: now)
                cursor = parsed
            } else {
                cursor = try subscriptions.createHoldingVisible(at: now, replica: replica)
            }
            if let replica {
                try subscriptions.bind(cursor.subscription, to: replica)
                try subscriptions.adoptPushedCustomers(of: replica, into: cursor.subscription)
            }
            if let page = try subscriptions.reconcile(cursor, limit: limit, at: now) { return page }
            return try subscriptions.logPage(
                after: FeedCursor.LogCursor(position: cursor.position, subscription: cursor.subscription, seq: cursor.seq), limit: limit,
                excluding: replica)
        }
    }

    public func snapshot(page: SyncCursor?, limit: Int, for device: DeviceIdentity, replica: ReplicaID?, at now: Instant) async throws -> SnapshotPage {
        let parsed = try page.map { page throws(ServerError) in try FeedCursor.snapshot(parsing: page) }
        return try await state.writeDatabase { _, db in
            let subscriptions = SQLiteSubscriptions(db: db, device: device)
            let cursor: FeedCursor.SnapshotCursor
            if let parsed {
                try subscriptions.confirm(subscription: parsed.subscription, seq: parsed.seq, at: now)
                cursor = parsed
            } else {
                let top = try Int64.fetchOne(db, sql: "SELECT max(position) FROM change_log") ?? 0
                cursor = FeedCursor.SnapshotCursor(
                    position: top, subscription: try subscriptions.create(at: now, replica: replica), seq: 0, after: CustomerID(unchecked: ""))
            }
            return try subscriptions.snapshotPage(cursor, limit: limit)
        }
    }

    public func createToken(_ kind: TokenKind, name: String, scopes: [String], expiresAt: Instant?, now: Instant) async throws -> IssuedToken {
        let token = IssuedToken(id: TokenSecret.makeID(kind), secret: TokenSecret.make(kind))
        try await state.writeDatabase { _, db in
            switch kind {
            case .device:
                try db.execute(
                    sql: "INSERT INTO device_token (id, name, token_hash, scopes, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [
                        token.id, name, TokenSecret.hash(token.secret), JSONValue.array(scopes.map { .string($0) }).canonicalText,
                        now.description, expiresAt?.description,
                    ])
                try SQLiteAudit.record(
                    .tokenCreate, at: now.description, actor: Self.administrator, token: token.id,
                    detail: AuditEvent.tokenDetail(.device, scopes: scopes), in: db)
            case .admin:
                try db.execute(
                    sql: "INSERT INTO admin_token (id, name, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                    arguments: [token.id, name, TokenSecret.hash(token.secret), now.description, expiresAt?.description])
                try SQLiteAudit.record(.tokenCreate, at: now.description, actor: Self.administrator, token: token.id, detail: AuditEvent.tokenDetail(.admin, scopes: []), in: db)
            }
        }
        return token
    }

    public func tokens(_ kind: TokenKind) async throws -> [TokenRecord] {
        try await state.readDatabase { _, db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.tokenColumns(kind)) FROM \(Self.tokenTable(kind)) ORDER BY created_at DESC, id"
            ).map { try Self.tokenRecord($0, kind: kind) }
        }
    }

    public func setTokenScopes(id: String, scopes: [String], at: Instant) async throws -> Bool {
        try await state.writeDatabase { _, db in
            // The subscriptions notice: they were reconciled with the old scopes.
            try db.execute(
                sql: "UPDATE device_token SET scopes = ? WHERE id = ?",
                arguments: [JSONValue.array(scopes.map { .string($0) }).canonicalText, id])
            guard db.changesCount > 0 else { return false }
            try SQLiteAudit.record(
                .tokenScopes, at: at.description, actor: Self.administrator, token: id, detail: AuditEvent.tokenDetail(.device, scopes: scopes), in: db)
            return true
        }
    }

    public func revokeToken(id: String, by actor: String, at: Instant) async throws -> Bool {
        try await state.writeDatabase { _, db in
            var revoked = 0
            for kind in TokenKind.allCases {
                try db.execute(
                    sql: "UPDATE \(Self.tokenTable(kind)) SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [at.description, id])
                revoked += db.changesCount
            }
            guard revoked > 0 else { return false }
            try SQLiteAudit.record(.tokenRevoke, at: at.description, actor: actor, token: id, in: db)
            return true
        }
    }

    /// The actor recorded for token operations, which come from the data directory's owner.
    static let administrator = "admin"

    public func auditTrail(_ query: AuditQuery, limit: Int) async throws -> [AuditEvent] {
        try await state.readDatabase { _, db in try SQLiteAudit.events(query, limit: limit, in: db) }
    }

    public func recordAccess(
        _ action: AuditEvent.Action, by actor: String, customer: CustomerID?, token: String?, detail: String?, at: Instant
    ) async throws {
        try await state.writeDatabase { _, db in
            try SQLiteAudit.record(action, at: at.description, actor: actor, customer: customer, token: token, detail: detail, in: db)
        }
    }

    private static func tokenTable(_ kind: TokenKind) -> String {
        kind == .device ? "device_token" : "admin_token"
    }

    /// The columns `tokenRecord` reads, in its order (an admin token has no scopes).
    private static func tokenColumns(_ kind: TokenKind) -> String {
        "id, name, \(kind == .device ? "scopes" : "'[]'"), created_at, expires_at, revoked_at"
    }

    private static func tokenRecord(_ row: Row, kind: TokenKind) throws -> TokenRecord {
        TokenRecord(
            id: row[0], kind: kind, name: row[1],
            scopes: (try JSONValue(parsing: row[2] as String).arrayValue ?? []).compactMap(\.stringValue),
            createdAt: try Instant(parsing: row[3]), expiresAt: try (row[4] as String?).map { try Instant(parsing: $0) },
            revokedAt: try (row[5] as String?).map { try Instant(parsing: $0) })
    }

    public func exportState() async throws -> String {
        try await state.read { reader in
            var text = ""
            try reader.exportJSON { text += $0 }
            return text
        }
    }

    /// Copies the write-ahead log into the database file and empties it.
    public func checkpoint() async throws {
        try await state.checkpoint()
    }

    /// How many changes the log holds.
    public func logCount() async throws -> Int {
        try await state.readDatabase { _, db in try Int.fetchOne(db, sql: "SELECT count(*) FROM change_log") ?? 0 }
    }

    public func cursorKey() async throws -> [UInt8] {
        try await state.readDatabase { _, db in
            try CursorSeal.key(hex: try String.fetchOne(db, sql: "SELECT value FROM server_secret WHERE name = 'cursor_key'"))
        }
    }

    public func checkReady() async throws {
        try await state.readDatabase { _, db in try db.execute(sql: "SELECT 1 FROM change_log LIMIT 1") }
    }

    public func statistics() async throws -> StorageStatistics {
        try await state.readDatabase { reader, db in
            StorageStatistics(
                logChanges: try Int.fetchOne(db, sql: "SELECT count(*) FROM change_log") ?? 0,
                logHead: try Int64.fetchOne(db, sql: "SELECT max(position) FROM change_log") ?? 0,
                openConflicts: try reader.conflicts().count,
                purgesPending: try Int.fetchOne(
                    db,
                    sql: """
                        SELECT count(*) FROM (
                            SELECT subscription, customer FROM holding WHERE customer IN (SELECT customer FROM erasure)
                            UNION SELECT subscription, customer FROM pending_holding WHERE held = 1 AND customer IN (SELECT customer FROM erasure))
                        """) ?? 0,
                horizon: try String.fetchOne(db, sql: "SELECT horizon FROM log_compaction").map { try Instant(parsing: $0) },
                subscriptions: try Int.fetchOne(db, sql: "SELECT count(*) FROM subscription WHERE token_id <> ''") ?? 0)
        }
    }
}
