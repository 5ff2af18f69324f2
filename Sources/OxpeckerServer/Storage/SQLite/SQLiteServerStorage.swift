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
    public init(dataDirectory: String, clock: WallClock = .system) throws {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        state = try CustomerStore.openServerState(
            at: (dataDirectory as NSString).appendingPathComponent("server.oxpecker"),
            options: StoreOptions(clock: clock, durability: .full), migrations: ServerSchema.migrations)
    }

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

    public func push(_ request: PushRequest, from device: DeviceIdentity, policy: PushPolicy) async throws -> PushResponse {
        let replica = request.replica
        let receivedAt = PushRules.receivedAt(policy).description
        return try await state.writeDatabase { writer, db in
            try Self.claim(replica, for: device, at: receivedAt, in: db)
            var results: [PushResult] = []
            for item in request.items {
                results.append(try Self.push(item, writer: writer, db: db, device: device, policy: policy, receivedAt: receivedAt))
            }
            let through = try Self.advanceProgress(of: replica, in: db)
            return PushResponse(results: results, acknowledgedThrough: through)
        }
    }

    /// A replica id belongs to the token of its first push (``PushRules/claim(_:owner:ownerValid:by:)``).
    static func claim(_ replica: ReplicaID, for device: DeviceIdentity, at now: String, in db: Database) throws {
        let owner = try String.fetchOne(
            db.cachedStatement(sql: "SELECT token_id FROM replica_owner WHERE replica = ?"), arguments: [replica.rawValue])
        let ownerValid = try owner.map { owner in
            try owner.hasPrefix("jwt:")
                || (Bool.fetchOne(
                    db.cachedStatement(
                        sql: "SELECT 1 FROM device_token WHERE id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)"),
                    arguments: [owner, now]) ?? false)
        } ?? false
        switch try PushRules.claim(replica, owner: owner, ownerValid: ownerValid, by: device) {
        case .owned: return
        case .first:
            try db.execute(
                sql: "INSERT INTO replica_owner (replica, token_id, since) VALUES (?, ?, ?)", arguments: [replica.rawValue, device.tokenID, now])
        case .moved:
            try db.execute(
                sql: "UPDATE replica_owner SET token_id = ?, since = ? WHERE replica = ?", arguments: [device.tokenID, now, replica.rawValue])
        }
    }

    private static func push(
        _ item: ChangeItem, writer: StoreWriter, db: Database, device: DeviceIdentity, policy: PushPolicy, receivedAt: String
    ) throws -> PushResult {
        let number = item.number
        guard let change = item.change else { return PushRules.unsupported(number) }
        if let stored = try String.fetchOne(
            db.cachedStatement(sql: "SELECT body FROM change_log WHERE replica = ? AND number = ?"),
            arguments: [change.replica.rawValue, number])
        {
            if let conflict = PushRules.replicaConflict(of: change, stored: stored) { return conflict }
            return PushResult(number: number, outcome: .duplicate)
        }
        if let refusal = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT reason, message FROM push_refusal WHERE replica = ? AND number = ?"),
            arguments: [change.replica.rawValue, number])
        {
            return PushResult(number: number, outcome: .rejected, reason: ErrorCode(unchecked: refusal[0]), message: refusal[1])
        }
        // Not stored in push_refusal, nor counted by advanceProgress: the device restamps the change
        // (a new body under this number) once its clock is fixed, and that one must be taken.
        if let skew = PushRules.clockSkew(of: change, policy: policy) { return skew }
        if let refusal = PushRules.deviceRefusal(of: change) {
            return try refuse(change, .invalidChange, refusal, in: db)
        }
        let standing = try SQLiteSubscriptions(db: db, device: device).standing(of: change.customer)
        if let refusal = PushRules.customerRefusal(of: change, standing: standing, device: device) {
            return try refuse(change, refusal.code, refusal.message, in: db)
        }
        switch try writer.apply([change])[0] {
        case .rejected(let reason):
            return try refuse(change, .invalidChange, reason, in: db)
        case .applied, .unchanged:
            let stored = try redacting(change, in: db)
            var superseded = false
            if change.kind == .register, change.entity == .profile {
                // Only the latest write of a register still matters for a snapshot.
                let live = try Row.fetchAll(
                    db.cachedStatement(
                        sql: "SELECT position, hlc FROM change_log WHERE customer = ? AND field = ? AND kind = 'register' AND superseded = 0"),
                    arguments: [change.customer.rawValue, change.field])
                let (replaced, standing) = try RegisterRule.partition(live, against: change.hlc) { try HybridTimestamp(parsing: $0[1] as String) }
                for row in replaced {
                    try db.cachedStatement(sql: "UPDATE change_log SET superseded = 1 WHERE position = ?").execute(arguments: [row[0] as Int64])
                }
                superseded = !standing.isEmpty
            }
            try db.cachedStatement(
                sql: """
                    INSERT INTO change_log (replica, number, hlc, customer, entity, field, kind, body, superseded, device, received_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                change.replica.rawValue, number, change.hlc.description, change.customer.rawValue, change.entity.rawValue, change.field,
                change.kind.rawValue, WireCodec().encodeText(stored), superseded, device.tokenID, receivedAt,
            ])
            if PushRules.movesScopes(change) {
                try SQLiteSubscriptions.bumpEpoch(for: change.customer.rawValue, in: db)  // who sees this customer may have changed
            }
            if standing == .new {
                try SQLiteSubscriptions.recordPushedCustomer(change.customer, by: change.replica, in: db)
            }
            try SQLiteAudit.recordChange(change, by: device, at: receivedAt, in: db)
            return PushResult(number: number, outcome: .accepted)
        }
    }

    /// The form of an accepted change the log keeps (``RedactionRules``): without its
    /// text if its note is redacted (the state, merged already, says); and a redaction
    /// removes the text of its note's changes logged before.
    private static func redacting(_ change: Change, in db: Database) throws -> Change {
        if let note = RedactionRules.note(redactedBy: change) {
            let logged = try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT position, body FROM change_log WHERE customer = ? AND entity IN ('note', 'note_revision')"),
                arguments: [change.customer.rawValue]
            ).map { (position: $0[0] as Int64, body: $0[1] as String) }
            try storeBodies(RedactionRules.blankedBodies(logged, of: [note]), in: db)
            return change
        }
        guard let note = RedactionRules.note(whoseTextIsIn: change), let blanked = RedactionRules.withoutText(change),
            try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM note_redaction WHERE note_id = ?"), arguments: [note]) ?? false
        else { return change }
        return blanked
    }

    /// Writes back logged changes a redaction rewrote (``RedactionRules/blankedBodies(_:of:)``).
    static func storeBodies(_ bodies: [(position: Int64, body: String)], in db: Database) throws {
        let update = try db.cachedStatement(sql: "UPDATE change_log SET body = ? WHERE position = ?")
        for (position, body) in bodies { try update.execute(arguments: [body, position]) }
    }

    private static func refuse(_ change: Change, _ code: ErrorCode, _ message: String, in db: Database) throws -> PushResult {
        try db.execute(
            sql: "INSERT OR IGNORE INTO push_refusal (replica, number, reason, message) VALUES (?, ?, ?, ?)",
            arguments: [change.replica.rawValue, change.number, code.rawValue, message])
        return PushResult(number: change.number, outcome: .rejected, reason: code, message: message)
    }

    /// The highest N such that changes 1…N of `replica` are all stored or refused for good.
    private static func advanceProgress(of replica: ReplicaID, in db: Database) throws -> Int64 {
        var through = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT acknowledged_through FROM replica_progress WHERE replica = ?"), arguments: [replica.rawValue]) ?? 0
        let known = try db.cachedStatement(
            sql: "SELECT EXISTS (SELECT 1 FROM change_log WHERE replica = ?1 AND number = ?2) OR EXISTS (SELECT 1 FROM push_refusal WHERE replica = ?1 AND number = ?2)")
        while try Bool.fetchOne(known, arguments: [replica.rawValue, through + 1]) ?? false {
            through += 1
        }
        try db.execute(
            sql: "INSERT INTO replica_progress (replica, acknowledged_through) VALUES (?, ?) ON CONFLICT DO UPDATE SET acknowledged_through = excluded.acknowledged_through",
            arguments: [replica.rawValue, through])
        return through
    }

    public func pull(after cursor: SyncCursor?, limit: Int, for device: DeviceIdentity, replica: ReplicaID?, at now: Instant) async throws -> LogPage {
        let parsed = try cursor.map { cursor throws(ServerError) in try FeedCursor.log(parsing: cursor) }
        if let parsed {
            // Most pulls confirm nothing and find the device's customers unchanged: a read.
            let settled = try await state.readDatabase { _, db in
                let subscriptions = SQLiteSubscriptions(db: db, device: device)
                return try subscriptions.isSettled(parsed) ? try subscriptions.logPage(after: parsed, limit: limit, excluding: replica) : nil
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
                        """) ?? 0)
        }
    }
}
