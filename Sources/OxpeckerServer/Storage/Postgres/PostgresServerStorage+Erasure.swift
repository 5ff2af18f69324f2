import OxpeckerProtocol
import PostgresNIO

/// The right to erasure in the PostgreSQL backend: the same as SQLite's
/// (`SQLiteServerStorage+Erasure.swift`), in one transaction under the append lock, exclusive: the pushes in
/// flight end first and the next wait for it, so its log row's position, taken while no push
/// is in flight, is above every push before it and below every push after it.
///
/// One difference: PostgreSQL does not overwrite deleted rows at once (SQLite's
/// `secure_delete` does). The erased customer's rows stay in the table files as
/// dead tuples until VACUUM reclaims their space (autovacuum does, in time;
/// `VACUUM change_log, customer_scope` does it now), and in the write-ahead log
/// and the base backups until those are recycled. On plain data the operator's
/// retention of WAL archives and backups decides when the last copy goes (README,
/// "Deployment"); on encrypted data those copies are sealed under the customer's
/// data key, which the erasure destroys in the key store, after the commit (so a
/// failed erasure can be made again; a server that stops between the two destroys
/// the key at its next start).
extension PostgresServerStorage {
    public func eraseCustomer(_ customer: CustomerID, by actor: String, at now: Instant) async throws -> ErasureStatus {
        try await erase(customer, by: actor, at: now, known: false)
        guard let status = try await erasureStatus(of: customer) else { throw ErasureError.unknownCustomer(customer) }
        return status
    }

    /// Erases `customer` in one transaction, then destroys their data key. Nothing if it was
    /// erased already (but the key); ``ErasureError/unknownCustomer(_:)`` if the data never
    /// held it, unless `known` (its key was destroyed: it must be refused from now on all the same).
    func erase(_ customer: CustomerID, by actor: String, at now: Instant, known knownAnyway: Bool) async throws {
        let replica = self.replica
        try await transaction("erasing a customer") { connection in
            let id = customer.rawValue
            try await connection.run("SELECT pg_advisory_xact_lock(\(PostgresSchema.appendLock))")
            if try await connection.one("SELECT 1::bigint FROM erasure WHERE customer = \(id)", as: Int64.self) != nil { return }
            let known = try await connection.one(
                """
                SELECT (EXISTS (SELECT 1 FROM known_customer WHERE customer = \(id))
                        OR EXISTS (SELECT 1 FROM change_log WHERE customer = \(id)))
                """, as: Bool.self) ?? false
            guard known || knownAnyway else { throw ErasureError.unknownCustomer(customer) }
            let stamp = try HybridTimestamp(wallMillis: now.millisecondsSince1970, counter: 0, replica: replica)
            // A store that wrote changes of the customer has it, held or not (as SQLite's): recorded
            // while the log still says which replicas wrote them.
            try await connection.run(
                """
                INSERT INTO holding (subscription, customer, since)
                    SELECT s.id, \(id), 0 FROM subscription s
                    WHERE s.token_id IN (SELECT actor FROM audit_event WHERE customer = \(id) AND action = 'change')
                      AND (s.replica IS NULL OR s.replica IN (SELECT replica FROM change_log WHERE customer = \(id)))
                ON CONFLICT (subscription, customer) DO NOTHING
                """)
            // The log: every change of the customer goes (push_refusal keeps no values, only codes).
            let removed = try await connection.run("DELETE FROM change_log WHERE customer = \(id) RETURNING position")
            try await connection.run("DELETE FROM customer_scope WHERE customer = \(id)")
            try await connection.run("DELETE FROM known_customer WHERE customer = \(id)")
            // One erasure change in its place, without personal data, above every position handed out
            // (positions only grow): it tells a device that still holds the customer what the purge notice does.
            let position = try await connection.one("SELECT nextval('change_log_position')", as: Int64.self) ?? 0
            let erasure = Change(
                replica: replica, number: position, hlc: stamp, customer: customer, entity: .customer, field: nil, record: nil,
                kind: .erasure, value: ["at": .string(now.description), "by": .string(actor), "reason": "erasure_request"])
            try await connection.run(
                """
                INSERT INTO change_log (position, replica, number, hlc, customer, entity, field, kind, body, superseded, device, received_at)
                VALUES (\(position), \(replica.rawValue), \(position), \(stamp.description), \(id), 'customer', NULL, 'erasure',
                        \(WireCodec().encodeText(erasure)), false, \(actor), \(now.description))
                """)
            try await connection.run(
                "INSERT INTO erasure (customer, erased_at, erased_by, removed_changes) VALUES (\(id), \(now.description), \(actor), \(Int64(removed)))")
            try await PostgresSubscriptions.bumpEpoch(for: [id], on: connection)
            try await PostgresAudit.record(
                .erase, at: now.description, actor: actor, customer: customer, detail: "\(removed) changes removed from the log", on: connection)
        }
        try await keyStore?.destroyKey(of: customer.rawValue)
    }

    public func erasureStatus(of customer: CustomerID) async throws -> ErasureStatus? {
        try await transaction("reading an erasure", snapshot: true) { connection in
            let id = customer.rawValue
            var erasure: (String, String, Int64)?
            let rows = try await connection.query(
                "SELECT erased_at, erased_by, removed_changes FROM erasure WHERE customer = \(id)", logger: connection.logger)
            for try await row in rows.decode((String, String, Int64).self) { erasure = row }
            guard let erasure else { return nil }
            // Held, or sent in an answer not confirmed yet: the device may hold it.
            var devices: [UnconfirmedPurge] = []
            let held = try await connection.query(
                """
                SELECT s.id, s.token_id, coalesce(t.name, ''), s.confirmed_at, t.revoked_at IS NOT NULL OR t.id IS NULL
                FROM subscription s LEFT JOIN device_token t ON t.id = s.token_id
                WHERE s.id IN (SELECT subscription FROM holding WHERE customer = \(id)
                               UNION SELECT subscription FROM pending_holding WHERE customer = \(id) AND held)
                ORDER BY s.token_id COLLATE "C", s.id
                """, logger: connection.logger)
            for try await (subscription, token, name, confirmed, revoked) in held.decode((Int64, String, String, String?, Bool).self) {
                devices.append(
                    UnconfirmedPurge(
                        tokenID: token, deviceName: name, subscription: subscription,
                        lastConfirmedAt: try confirmed.map { try Instant(parsing: $0) }, revoked: revoked))
            }
            return ErasureStatus(
                customer: customer, erasedAt: try Instant(parsing: erasure.0), erasedBy: erasure.1, removedChanges: Int(erasure.2),
                unconfirmed: devices)
        }
    }
}
