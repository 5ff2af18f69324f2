import GRDB
import OxpeckerProtocol

/// Where this store stands with its sync server: saved in the same transaction
/// as the data it describes, so an interrupted sync resumes where it stopped.
public struct SyncCheckpoint: Sendable, Hashable {
    /// The cursor to pull after; nil before the first pull.
    public var pullCursor: String?
    /// The next bootstrap page to fetch while a bootstrap is under way.
    public var bootstrapPage: String?
    /// The log position the bootstrap under way was taken at.
    public var bootstrapResumeCursor: String?
    /// Whether the store has completed a bootstrap.
    public var bootstrapped: Bool
    /// The server this store syncs with (its base URL), if it has synced.
    public var server: String?
    /// When the last sync finished.
    public var lastSyncAt: Instant?
    /// The replica id of the server's log this store syncs with, as its hello announced it; a
    /// new one (a server restored from a backup, or another server) means that log may lack
    /// what this store pushed (see ``StoreWriter/requeuePushedChanges()``).
    public var serverReplica: ReplicaID?

    public init(
        pullCursor: String? = nil, bootstrapPage: String? = nil, bootstrapResumeCursor: String? = nil,
        bootstrapped: Bool = false, server: String? = nil, lastSyncAt: Instant? = nil, serverReplica: ReplicaID? = nil
    ) {
        self.pullCursor = pullCursor
        self.bootstrapPage = bootstrapPage
        self.bootstrapResumeCursor = bootstrapResumeCursor
        self.bootstrapped = bootstrapped
        self.server = server
        self.lastSyncAt = lastSyncAt
        self.serverReplica = serverReplica
    }
}

/// A pushed change the server refused for good; kept for a person to look at.
public struct PushRejection: Sendable, Hashable {
    public let change: Change
    /// The machine code from the protocol's error table (`out_of_scope`, `invalid_change` …).
    public let reason: String
    public let message: String
    public let at: Instant
}

/// What purging a customer removed from this store.
public struct PurgeReport: Sendable, Hashable {
    public let customer: CustomerID
    /// Whether the customer was on this store at all.
    public let existed: Bool
    /// Unsent changes about the customer that were dropped with it.
    public let droppedOutboxChanges: Int
}

extension StoreReader {
    /// The store's sync checkpoint.
    public func syncCheckpoint() throws -> SyncCheckpoint {
        guard let row = try Row.fetchOne(
            db,
            sql: "SELECT pull_cursor, bootstrap_page, bootstrap_resume_cursor, bootstrapped, server, last_sync_at, server_replica FROM sync_state")
        else { return SyncCheckpoint() }
        return SyncCheckpoint(
            pullCursor: row[0], bootstrapPage: row[1], bootstrapResumeCursor: row[2], bootstrapped: row[3], server: row[4],
            lastSyncAt: try (row[5] as String?).map { try Instant(parsing: $0) }, serverReplica: (row[6] as String?).flatMap(ReplicaID.init(rawValue:)))
    }

    /// How many of the store's own changes the server acknowledged are kept, to be pushed again
    /// should the server lose them (``StoreWriter/requeuePushedChanges()``).
    public func pushedChangeCount() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM pushed_change") ?? 0
    }

    /// Pushed changes the server refused for good, oldest first.
    public func pushRejections() throws -> [PushRejection] {
        try Row.fetchAll(db, sql: "SELECT oxp_open(NULL, change), reason, message, at FROM push_rejection ORDER BY number").map { row in
            PushRejection(
                change: try WireCodec().decode(Change.self, from: row[0] as String), reason: row[1], message: row[2], at: try Instant(parsing: row[3]))
        }
    }

    /// Changes received from a newer peer with a kind this build cannot apply yet.
    public func parkedChangeCount() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM parked_change") ?? 0
    }
}

extension StoreWriter {
    /// Saves the sync checkpoint, in this transaction.
    public func saveCheckpoint(_ checkpoint: SyncCheckpoint) throws {
        try db.execute(
            sql: """
                UPDATE sync_state SET pull_cursor = ?, bootstrap_page = ?, bootstrap_resume_cursor = ?, bootstrapped = ?,
                    server = ?, last_sync_at = ?, server_replica = ?
                """,
            arguments: [
                checkpoint.pullCursor, checkpoint.bootstrapPage, checkpoint.bootstrapResumeCursor, checkpoint.bootstrapped,
                checkpoint.server, checkpoint.lastSyncAt?.description, checkpoint.serverReplica?.rawValue,
            ])
    }

    /// Removes changes from the outbox once the server has them (accepted, or a duplicate of an earlier push).
    /// They are kept as pushed changes (``requeuePushedChanges()``): a server restored from an
    /// older backup no longer has them, and this store is then the only place they are left.
    /// Those acknowledged longer ago than ``StoreOptions/pushedChangeRetention`` are dropped then.
    public func acknowledge(_ numbers: some Sequence<Int64>) throws {
        let at = now().millisecondsSince1970
        let keep = try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO pushed_change (number, hlc, customer_id, entity, field, record, kind, value, observed, acknowledged_at)
                SELECT number, hlc, customer_id, entity, field, record, kind, value, observed, ?2 FROM outbox WHERE number = ?1
                """)
        let remove = try db.cachedStatement(sql: "DELETE FROM outbox WHERE number = ?")
        for number in numbers {
            try keep.execute(arguments: [number, at])
            try remove.execute(arguments: [number])
        }
        let (seconds, attoseconds) = pushedChangeRetention.components
        let retentionMillis = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        try db.cachedStatement(sql: "DELETE FROM pushed_change WHERE acknowledged_at < ?").execute(arguments: [at - retentionMillis])
    }

    /// Removes changes from the outbox without keeping them as pushed: the server took them
    /// nowhere (a change of an erased customer, dropped; one refused for good, kept aside).
    public func discardFromOutbox(_ numbers: some Sequence<Int64>) throws {
        let statement = try db.cachedStatement(sql: "DELETE FROM outbox WHERE number = ?")
        for number in numbers { try statement.execute(arguments: [number]) }
    }

    /// Puts every change the server acknowledged back in the outbox, under its own number,
    /// to be pushed again: the server's log is not the one that acknowledged them (it was
    /// restored from a backup, see `oxpecker-server restore`). A push is idempotent by
    /// (replica, number): those the server still has are answered `duplicate`. Returns how many.
    @discardableResult
    public func requeuePushedChanges() throws -> Int {
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO outbox (number, hlc, customer_id, entity, field, record, kind, value, observed)
                SELECT number, hlc, customer_id, entity, field, record, kind, value, observed FROM pushed_change
                """)
        let requeued = db.changesCount
        try db.execute(sql: "DELETE FROM pushed_change")
        return requeued
    }

    /// Moves a change the server refused for good out of the outbox, keeping it with the reason.
    public func recordRejection(of number: Int64, reason: String, message: String) throws {
        guard let change = try StoreReader(db: db).outbox(after: number - 1, limit: 1).first, change.number == number else { return }
        try db.execute(
            sql: "INSERT OR REPLACE INTO push_rejection (number, change, reason, message, at) VALUES (?1, oxp_seal(NULL, ?2), ?3, ?4, ?5)",
            arguments: [number, WireCodec().encodeText(change), reason, message, now().description])
        try discardFromOutbox([number])
    }

    /// Keeps a change of a kind this build does not know, to apply after an upgrade.
    public func park(replica: ReplicaID, number: Int64, body: String) throws {
        try db.execute(
            sql: "INSERT OR IGNORE INTO parked_change (replica, number, body) VALUES (?1, ?2, oxp_seal(NULL, ?3))",
            arguments: [replica.rawValue, number, body])
    }

    /// Deletes everything about a customer from this store, unsent outbox changes
    /// and changes kept aside included (the customer left this device's scopes, or
    /// was erased). A customer who comes back into scope is sent whole again.
    /// Deleted content is overwritten in the database file (`secure_delete`).
    /// `keepingSetAside`: the changes kept aside for a person stay (a push refused
    /// as `out_of_scope` takes the customer off the device but never an advisor's
    /// own unsent work).
    @discardableResult
    public func purge(_ customer: CustomerID, keepingSetAside: Bool = false) throws -> PurgeReport {
        let key = [customer.rawValue]
        knownCustomers.remove(customer.rawValue)
        removedPersonalData = true
        let existed = try Bool.fetchOne(db, sql: "SELECT 1 FROM customer WHERE id = ?", arguments: StatementArguments(key)) ?? false
        try db.execute(
            sql: "DELETE FROM search_index WHERE rowid IN (SELECT rowid FROM search_document WHERE customer_id = ?)",
            arguments: StatementArguments(key))
        try db.execute(sql: "DELETE FROM search_document WHERE customer_id = ?", arguments: StatementArguments(key))
        if db.changesCount > 0 { searchIndexNeedsCompaction = true }
        for table in [
            "note_revision", "note_redaction", "guarded_write", "field_value", "set_element", "note", "consent_event", "life_event",
            "contact",
        ] {
            try db.execute(sql: "DELETE FROM \(table) WHERE customer_id = ?", arguments: StatementArguments(key))
        }
        try db.execute(sql: "DELETE FROM customer WHERE id = ?", arguments: StatementArguments(key))
        // Changes kept aside (refused by the server, or of a kind this build cannot apply yet) go too.
        if !keepingSetAside {
            try db.execute(sql: "DELETE FROM push_rejection WHERE json_extract(oxp_open(NULL, change), '$.customer') = ?", arguments: StatementArguments(key))
        }
        try db.execute(sql: "DELETE FROM parked_change WHERE json_extract(oxp_open(NULL, body), '$.customer') = ?", arguments: StatementArguments(key))
        try db.execute(sql: "DELETE FROM pushed_change WHERE customer_id = ?", arguments: StatementArguments(key))
        try db.execute(sql: "DELETE FROM outbox WHERE customer_id = ?", arguments: StatementArguments(key))
        return PurgeReport(customer: customer, existed: existed, droppedOutboxChanges: db.changesCount)
    }

    /// Purges every customer with no change waiting in the outbox: what a store
    /// does before it bootstraps again from a server that no longer knows what it
    /// holds (the snapshot brings back the customers still in its scopes).
    @discardableResult
    public func purgeCustomersWithoutPendingChanges() throws -> [PurgeReport] {
        let customers = try String.fetchAll(
            db, sql: "SELECT id FROM customer WHERE id NOT IN (SELECT customer_id FROM outbox) ORDER BY id")
        return try customers.map { try purge(CustomerID(unchecked: $0)) }
    }

    /// Purges a customer and keeps a tombstone, so that no later change brings it back.
    @discardableResult
    public func purgeErased(_ customer: CustomerID, stamp: HybridTimestamp) throws -> PurgeReport {
        let report = try purge(customer)
        try db.execute(
            sql: "INSERT OR IGNORE INTO erased_customer (id, hlc) VALUES (?, ?)", arguments: [customer.rawValue, stamp.description])
        return report
    }
}
