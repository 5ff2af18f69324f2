import GRDB
import OxpeckerProtocol
@_spi(OxpeckerServer) import OxpeckerStore

extension SQLiteServerStorage {
    public func eraseCustomer(_ customer: CustomerID, by actor: String, at now: Instant) async throws -> ErasureStatus {
        let replica = self.replica
        try await state.writeDatabase { writer, db in
            try Self.erase(customer, by: actor, at: now, replica: replica, known: false, writer: writer, db: db)
        }
        // The purge emptied the write-ahead log after the commit (CustomerStore's transaction).
        // Encrypted data: the key goes last, so that a failed purge can be made again.
        try state.destroyDataKey(of: customer)
        guard let status = try await erasureStatus(of: customer) else { throw ErasureError.unknownCustomer(customer) }
        return status
    }

    /// Erases `customer` in one transaction: state, log, subscriptions, audit. Nothing if it
    /// was erased already; ``ErasureError/unknownCustomer(_:)`` if the data never held it,
    /// unless `known` (its key was destroyed: it must be refused from now on all the same).
    static func erase(
        _ customer: CustomerID, by actor: String, at now: Instant, replica: ReplicaID, known: Bool, writer: StoreWriter, db: Database
    ) throws {
        let id = customer.rawValue
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM erasure WHERE customer = ?", arguments: [id]) ?? false { return }
        let held = try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM customer WHERE id = ?1) OR EXISTS (SELECT 1 FROM change_log WHERE customer = ?1 AND kind <> 'erasure')",
            arguments: [id]) ?? false
        guard held || known else { throw ErasureError.unknownCustomer(customer) }
        let stamp = try HybridTimestamp(wallMillis: now.millisecondsSince1970, counter: 0, replica: replica)
        // The state: every row of the customer, its search entries; a tombstone keeps only the id.
        try writer.purgeErased(customer, stamp: stamp)
        // A store that wrote changes of the customer has it, whether or not the server recorded it
        // as held (a device whose sync stopped between its push and the pull that follows): it is
        // held, so the next pull purges it. The stores are the subscriptions of the writing tokens
        // bound to a replica that wrote (recorded before the log rows go), and those of the writing
        // tokens not bound to a store (made before stores said which they are, or by a pull without
        // `replica`); another store of the same token that never held it is not waited for.
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO holding (subscription, customer, since)
                    SELECT s.id, ?1, 0 FROM subscription s
                    WHERE s.token_id IN (SELECT actor FROM audit_event WHERE customer = ?1 AND action = 'change')
                      AND (s.replica IS NULL OR s.replica IN (SELECT replica FROM change_log WHERE customer = ?1))
                """,
            arguments: [id])
        // The top before the delete: positions are rowids, which SQLite would hand out again
        // from the new maximum, under the cursors of devices that read up to the old one.
        let top = try Int64.fetchOne(db, sql: "SELECT max(position) FROM change_log") ?? 0
        // The log: every change of the customer goes (push_refusal keeps no values, only codes).
        try db.execute(sql: "DELETE FROM change_log WHERE customer = ?", arguments: [id])
        let removed = db.changesCount
        // One erasure change in its place, without personal data (kept clear), above the old top:
        // it keeps the log's top from moving down (positions only grow) and tells a device that
        // still holds the customer what the purge notice does.
        let number = top + 1
        let erasure = Change(
            replica: replica, number: number, hlc: stamp, customer: customer, entity: .customer, field: nil, record: nil,
            kind: .erasure, value: ["at": .string(now.description), "by": .string(actor), "reason": "erasure_request"])
        try db.execute(
            sql: """
                INSERT INTO change_log (position, replica, number, hlc, customer, entity, field, kind, body, superseded, device, received_at)
                VALUES (?, ?, ?, ?, ?, 'customer', NULL, 'erasure', ?, 0, ?, ?)
                """,
            arguments: [number, replica.rawValue, number, stamp.description, id, WireCodec().encodeText(erasure), actor, now.description])
        try db.execute(
            sql: "INSERT INTO erasure (customer, erased_at, erased_by, removed_changes) VALUES (?, ?, ?, ?)",
            arguments: [id, now.description, actor, removed])
        try SQLiteSubscriptions.bumpEpoch(for: id, in: db)
        try SQLiteAudit.record(
            .erase, at: now.description, actor: actor, customer: customer, detail: "\(removed) changes removed from the log", in: db)
    }

    /// The actor of an erasure made again because the key store had destroyed the customer's key.
    static let keyStoreActor = "oxpecker-server (key destroyed by an earlier erasure)"

    /// Records `keys`' id in the data the first time (checked at every later open).
    func record(_ keys: KeyStoreFile) throws {
        try state.writeDatabaseNow { _, db in
            try db.execute(sql: "INSERT OR IGNORE INTO server_secret (name, value) VALUES ('key_store', ?)", arguments: [keys.id])
        }
    }

    /// The id of the key store the data at `path` recorded, read without writing anything.
    static func recordedKeyStore(in path: String) throws -> String? {
        let queue = try DatabaseQueue(path: path, configuration: ServerDatabaseFile.readOnly())
        defer { try? queue.close() }
        return try queue.read { db in
            try db.tableExists("server_secret") ? try String.fetchOne(db, sql: "SELECT value FROM server_secret WHERE name = 'key_store'") : nil
        }
    }

    /// Finishes erasures on encrypted data: a customer whose key was destroyed but who is not
    /// erased here (the data was restored from a backup made before the erasure) is erased
    /// again, so that nothing of them is served and their devices' pushes are refused; an erased
    /// customer whose key is still kept (the server stopped between the two) loses it.
    func settleDestroyedKeys(at now: Instant) throws {
        let replica = self.replica
        let destroyed = try state.destroyedDataKeys()
        let erased = Set(try state.writeDatabaseNow { _, db in try String.fetchAll(db, sql: "SELECT customer FROM erasure") })
        for customer in destroyed where !erased.contains(customer.rawValue) {
            try state.writeDatabaseNow { writer, db in
                // Nothing of it here: its tombstone went by the compaction rule (CompactionPolicy).
                guard try Self.holdsAnything(of: customer, in: db) else { return }
                try Self.erase(customer, by: Self.keyStoreActor, at: now, replica: replica, known: true, writer: writer, db: db)
            }
        }
        for customer in erased.map({ CustomerID(unchecked: $0) }) where try state.holdsDataKey(of: customer) {
            try state.destroyDataKey(of: customer)
        }
    }

    /// Whether the data holds any row of `customer`, in the state or the log.
    private static func holdsAnything(of customer: CustomerID, in db: Database) throws -> Bool {
        try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM customer WHERE id = ?1) OR EXISTS (SELECT 1 FROM change_log WHERE customer = ?1 AND kind <> 'erasure')",
            arguments: [customer.rawValue]) ?? false
    }

    public func erasureStatus(of customer: CustomerID) async throws -> ErasureStatus? {
        try await state.readDatabase { _, db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT erased_at, erased_by, removed_changes FROM erasure WHERE customer = ?", arguments: [customer.rawValue])
            else { return nil }
            // Held, or sent in an answer not confirmed yet: the device may hold it.
            let devices = try Row.fetchAll(
                db,
                sql: """
                    SELECT s.id, s.token_id, coalesce(t.name, ''), s.confirmed_at, t.revoked_at IS NOT NULL OR t.id IS NULL
                    FROM subscription s LEFT JOIN device_token t ON t.id = s.token_id
                    WHERE s.id IN (SELECT subscription FROM holding WHERE customer = ?1
                                   UNION SELECT subscription FROM pending_holding WHERE customer = ?1 AND held = 1)
                    ORDER BY s.token_id, s.id
                    """,
                arguments: [customer.rawValue]
            ).map { device in
                UnconfirmedPurge(
                    tokenID: device[1], deviceName: device[2], subscription: device[0],
                    lastConfirmedAt: try (device[3] as String?).map { try Instant(parsing: $0) }, revoked: device[4])
            }
            return ErasureStatus(
                customer: customer, erasedAt: try Instant(parsing: row[0] as String), erasedBy: row[1], removedChanges: row[2],
                unconfirmed: devices)
        }
    }
}
