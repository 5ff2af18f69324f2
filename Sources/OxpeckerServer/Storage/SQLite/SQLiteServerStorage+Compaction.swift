import GRDB
import OxpeckerProtocol
@_spi(OxpeckerServer) import OxpeckerStore

/// The log compaction rule (``CompactionPolicy``) on the embedded backend: each step in
/// its own write transaction, the log's in windows of positions, so that a push waits
/// for one window at most.
extension SQLiteServerStorage {
    /// The positions one transaction of the log's compaction looks at.
    static let compactionWindow: Int64 = 20_000

    public func compact(_ policy: CompactionPolicy, at now: Instant) async throws -> CompactionReport {
        let horizon = policy.horizon(at: now)
        var report = CompactionReport(horizon: horizon)
        report.removedSubscriptions = try await state.writeDatabase { _, db in
            try Self.removeAbandonedSubscriptions(horizon: horizon, at: now, in: db)
        }
        // Positions are rowids: the top row always stays, or SQLite would hand its position out again.
        let (behind, top) = try await state.readDatabase { _, db in
            (
                try Int64.fetchOne(db, sql: "SELECT max(position) FROM change_log WHERE received_at < ?", arguments: [horizon.description]) ?? 0,
                try Int64.fetchOne(db, sql: "SELECT max(position) FROM change_log") ?? 0
            )
        }
        var from: Int64 = 0
        while from < min(behind, top - 1) {
            let (after, through) = (from, min(from + Self.compactionWindow, behind, top - 1))
            report.removedChanges += try await state.writeDatabase { _, db in
                try db.execute(
                    sql: """
                        DELETE FROM change_log WHERE position > ?1 AND position <= ?2 AND superseded = 1 AND received_at < ?3
                          AND number <= coalesce((SELECT acknowledged_through FROM replica_progress p WHERE p.replica = change_log.replica), 0)
                        """,
                    arguments: [after, through, horizon.description])
                return db.changesCount
            }
            from = through
        }
        let tombstoneLimit = policy.tombstoneLimit(at: now)
        let removed = report
        report = try await state.writeDatabase { _, db in
            var report = removed
            report.removedPushedCustomers = try Self.removePushedCustomers(horizon: horizon, in: db)
            report.removedMembershipChanges = try Self.removeReconciledMembershipChanges(in: db)
            report.removedTombstones = try Self.removeTombstones(erasedBefore: tombstoneLimit, in: db)
            try db.execute(
                sql: """
                    INSERT INTO log_compaction (singleton, compacted_at, horizon) VALUES (1, ?1, ?2)
                    ON CONFLICT DO UPDATE SET compacted_at = ?1, horizon = max(horizon, ?2)
                    """,
                arguments: [now.description, horizon.description])
            report.logChanges = try Int.fetchOne(db, sql: "SELECT count(*) FROM change_log") ?? 0
            return report
        }
        return report
    }

    /// Subscriptions of a token revoked, expired or gone, or not synced since `horizon`,
    /// with their holdings and unconfirmed answers (and those of subscriptions gone before).
    ///
    /// Ids are rowids, which SQLite hands out again from the highest one left: the
    /// highest stays as a husk of no token (its device's cursor is then expired, and
    /// no later subscription takes its id), removed by a later run once it is not the highest.
    private static func removeAbandonedSubscriptions(horizon: Instant, at now: Instant, in db: Database) throws -> Int {
        let abandoned = try Int64.fetchAll(
            db,
            sql: """
                SELECT s.id FROM subscription s LEFT JOIN device_token t ON t.id = s.token_id
                WHERE s.token_id <> '' AND (coalesce(s.confirmed_at, s.created_at) < ?1
                   OR (s.token_id NOT LIKE 'jwt:%' AND (t.id IS NULL OR t.revoked_at IS NOT NULL OR t.expires_at <= ?2)))
                """,
            arguments: [horizon.description, now.description])
        let highest = try Int64.fetchOne(db, sql: "SELECT max(id) FROM subscription") ?? 0
        try db.execute(sql: "DELETE FROM subscription WHERE token_id = '' AND id < ?", arguments: [highest])
        for id in abandoned {
            if id == highest {
                try db.execute(sql: "UPDATE subscription SET token_id = '', replica = NULL, round = NULL WHERE id = ?", arguments: [id])
                try SQLiteSubscriptions.removeHoldingsAndAnswers(of: id, in: db)
            } else {
                try db.execute(sql: "DELETE FROM subscription WHERE id = ?", arguments: [id])
            }
        }
        let removed = abandoned.count
        for table in ["holding", "pending_holding", "pending_answer"] {
            try db.execute(sql: "DELETE FROM \(table) WHERE subscription NOT IN (SELECT id FROM subscription)")
        }
        return removed
    }

    /// Customers a store created by a push before `horizon`, once no subscription of that store is left.
    private static func removePushedCustomers(horizon: Instant, in db: Database) throws -> Int {
        try db.execute(
            sql: """
                DELETE FROM pushed_customer WHERE recorded_at < ?
                  AND NOT EXISTS (SELECT 1 FROM subscription s WHERE s.replica = pushed_customer.replica)
                """,
            arguments: [horizon.description])
        return db.changesCount
    }

    /// Membership changes before the oldest epoch a kept subscription (or an answer it has not
    /// confirmed) reconciled to; `changes_from` moves up to it (ReconcileRound).
    private static func removeReconciledMembershipChanges(in db: Database) throws -> Int {
        let oldest = try Int64.fetchOne(
            db,
            sql: """
                SELECT min(epoch) FROM (
                    SELECT reconciled_epoch AS epoch FROM subscription WHERE reconciled_epoch > 0 AND token_id <> ''
                    UNION ALL SELECT reconciled_epoch FROM pending_answer WHERE reconciled_epoch > 0
                    UNION ALL SELECT epoch FROM membership_epoch)
                """) ?? 0
        try db.execute(sql: "DELETE FROM membership_change WHERE epoch < ?", arguments: [oldest])
        let removed = db.changesCount
        try db.execute(sql: "UPDATE membership_epoch SET changes_from = max(changes_from, ?)", arguments: [oldest])
        return removed
    }

    /// Erasures older than `limit` whose customer no subscription holds or was sent unconfirmed:
    /// the erasure record, the state's tombstone, and the erasure's log entry (unless it is the
    /// log's top, whose position must stay taken: then a later run removes it).
    private static func removeTombstones(erasedBefore limit: Instant, in db: Database) throws -> Int {
        let top = try Int64.fetchOne(db, sql: "SELECT max(position) FROM change_log") ?? 0
        let customers = try String.fetchAll(
            db,
            sql: """
                SELECT customer FROM erasure WHERE erased_at < ?
                  AND customer NOT IN (SELECT customer FROM holding)
                  AND customer NOT IN (SELECT customer FROM pending_holding WHERE held = 1)
                """,
            arguments: [limit.description])
        for customer in customers {
            try db.execute(sql: "DELETE FROM erasure WHERE customer = ?", arguments: [customer])
            try db.execute(sql: "DELETE FROM erased_customer WHERE id = ?", arguments: [customer])
            try db.execute(sql: "DELETE FROM pushed_customer WHERE customer = ?", arguments: [customer])
        }
        // The log entries of erasures whose record went (one that was the log's top waited for a later change).
        try db.execute(
            sql: "DELETE FROM change_log WHERE kind = 'erasure' AND position < ? AND customer NOT IN (SELECT customer FROM erasure)", arguments: [top])
        return customers.count
    }
}
