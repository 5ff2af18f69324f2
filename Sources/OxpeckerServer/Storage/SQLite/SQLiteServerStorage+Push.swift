import GRDB
import OxpeckerProtocol
@_spi(OxpeckerServer) import OxpeckerStore

extension SQLiteServerStorage {
    public func push(_ request: PushRequest, from device: DeviceIdentity, policy: PushPolicy) async throws -> PushResponse {
        let replica = request.replica
        let receivedAt = PushRules.receivedAt(policy).description
        return try await state.writeDatabase { writer, db in
            try Self.claim(replica, for: device, at: receivedAt, in: db)
            // The push is merged as one batch (its state read once, stored once), still judged
            // change by change, in order: each against its customer's state as the push's
            // earlier changes left it, and against the log as they wrote it.
            let changes = request.items.compactMap(\.change)
            var batch = try writer.batch(of: changes, alsoReading: [.scopes])
            let acknowledged = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT acknowledged_through FROM replica_progress WHERE replica = ?"), arguments: [replica.rawValue]) ?? 0
            var results: [PushResult] = []
            var index = 0  // of the next item's change in `changes`
            for item in request.items {
                guard let change = item.change else {
                    results.append(PushRules.unsupported(item.number))
                    continue
                }
                results.append(
                    try Self.push(
                        change, number: item.number, at: index, of: &batch, db: db, device: device, policy: policy, receivedAt: receivedAt,
                        acknowledged: acknowledged))
                index += 1
            }
            try batch.store()
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

    /// Judges one change of a push, the `index`th of `batch`, and merges and logs it if it is accepted.
    /// `acknowledged`: the replica's acknowledged number before this push.
    private static func push(
        _ change: Change, number: Int64, at index: Int, of batch: inout RemoteBatch, db: Database, device: DeviceIdentity,
        policy: PushPolicy, receivedAt: String, acknowledged: Int64
    ) throws -> PushResult {
        if let stored = try String.fetchOne(
            db.cachedStatement(sql: "SELECT oxp_open(customer, body) FROM change_log WHERE replica = ? AND number = ?"),
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
        let standing = try SQLiteSubscriptions(db: db, device: device).standing(of: batch.state(of: change.customer))
        if let refusal = PushRules.customerRefusal(of: change, standing: standing, device: device) {
            return try refuse(change, refusal.code, refusal.message, in: db)
        }
        // Neither logged nor refused, yet acknowledged: stored once, then compacted away (CompactionPolicy).
        if number <= acknowledged { return PushResult(number: number, outcome: .duplicate) }
        switch batch.merge(at: index) {
        case .rejected(let reason):
            return try refuse(change, .invalidChange, reason, in: db)
        case .applied, .unchanged:
            let stored = try redacting(change, in: db, batch: batch)
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
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, oxp_seal(?4, ?8), ?9, ?10, ?11)
                    """
            ).execute(arguments: [
                change.replica.rawValue, number, change.hlc.description, change.customer.rawValue, change.entity.rawValue, change.field,
                change.kind.rawValue, WireCodec().encodeText(stored), superseded, device.tokenID, receivedAt,
            ])
            if PushRules.movesScopes(change) {
                try SQLiteSubscriptions.bumpEpoch(for: change.customer.rawValue, in: db)  // who sees this customer may have changed
            }
            if standing == .new {
                try SQLiteSubscriptions.recordPushedCustomer(change.customer, by: change.replica, at: receivedAt, in: db)
            }
            try SQLiteAudit.recordChange(change, by: device, at: receivedAt, in: db)
            return PushResult(number: number, outcome: .accepted)
        }
    }

    /// The form of an accepted change the log keeps (``RedactionRules``): without its
    /// text if its note is redacted (the batch's state, with this change merged, says);
    /// and a redaction removes the text of its note's changes logged before.
    private static func redacting(_ change: Change, in db: Database, batch: borrowing RemoteBatch) throws -> Change {
        if let note = RedactionRules.note(redactedBy: change) {
            let logged = try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT position, oxp_open(customer, body) FROM change_log WHERE customer = ? AND entity IN ('note', 'note_revision')"),
                arguments: [change.customer.rawValue]
            ).map { (position: $0[0] as Int64, body: $0[1] as String) }
            try storeBodies(RedactionRules.blankedBodies(logged, of: [note]), in: db)
            return change
        }
        guard let note = RedactionRules.note(whoseTextIsIn: change), let blanked = RedactionRules.withoutText(change),
            batch.isRedacted(note)
        else { return change }
        return blanked
    }

    /// Writes back logged changes a redaction rewrote (``RedactionRules/blankedBodies(_:of:)``).
    /// `sealing`: sealed under the customer's key on encrypted data (`oxp_seal`, which hands a plain server's through).
    static func storeBodies(_ bodies: [(position: Int64, body: String)], in db: Database, sealing: Bool = true) throws {
        let update = try db.cachedStatement(
            sql: sealing ? "UPDATE change_log SET body = oxp_seal(customer, ?) WHERE position = ?" : "UPDATE change_log SET body = ? WHERE position = ?")
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
}
