import OxpeckerProtocol
import PostgresNIO

/// The log compaction rule (``CompactionPolicy``) on PostgreSQL, run by any instance
/// while every instance serves: each step its own transaction, the log's in windows of
/// positions. A subscription a request of its store holds (`FOR UPDATE`) is skipped
/// (it is in use); erasure tombstones go under the append lock (exclusive), as erasures and pushes
/// judge on them. Dead row versions are VACUUM's (autovacuum's) to reclaim.
extension PostgresServerStorage {
    /// The positions one transaction of the log's compaction looks at.
    static let compactionWindow: Int64 = 20_000

    public func compact(_ policy: CompactionPolicy, at now: Instant) async throws -> CompactionReport {
        var report = CompactionReport(horizon: policy.horizon(at: now))
        let horizon = report.horizon.description
        report.removedSubscriptions = try await transaction("removing abandoned subscriptions") { connection in
            let removed = try await connection.run(
                """
                DELETE FROM subscription WHERE id IN (
                    SELECT s.id FROM subscription s LEFT JOIN device_token t ON t.id = s.token_id
                    WHERE coalesce(s.confirmed_at, s.created_at) < \(horizon)
                       OR (s.token_id NOT LIKE 'jwt:%' AND (t.id IS NULL OR t.revoked_at IS NOT NULL OR t.expires_at <= \(now.description)))
                    FOR UPDATE OF s SKIP LOCKED)
                RETURNING 1
                """)
            for table in ["holding", "pending_holding", "pending_answer"] {
                try await connection.run(
                    PostgresQuery(unsafeSQL: "DELETE FROM \(table) x WHERE NOT EXISTS (SELECT 1 FROM subscription s WHERE s.id = x.subscription)"))
            }
            return removed
        }
        let behind = try await transaction("reading the log's horizon") { connection in
            try await connection.one("SELECT coalesce(max(position), 0) FROM change_log WHERE received_at < \(horizon)", as: Int64.self) ?? 0
        }
        var from: Int64 = 0
        while from < behind {
            let (after, through) = (from, min(from + Self.compactionWindow, behind))
            report.removedChanges += try await transaction("compacting the log") { connection in
                try await connection.run(
                    """
                    DELETE FROM change_log c WHERE position > \(after) AND position <= \(through) AND superseded AND received_at < \(horizon)
                      AND number <= coalesce((SELECT acknowledged_through FROM replica_progress p WHERE p.replica = c.replica), 0)
                    RETURNING 1
                    """)
            }
            from = through
        }
        let tombstoneLimit = policy.tombstoneLimit(at: now).description
        let (pushed, membership) = try await transaction("compacting side tables") { connection in
            let pushed = try await connection.run(
                """
                DELETE FROM pushed_customer p WHERE recorded_at < \(horizon)
                  AND NOT EXISTS (SELECT 1 FROM subscription s WHERE s.replica = p.replica)
                RETURNING 1
                """)
            // Membership changes before the oldest epoch a kept subscription (or an answer it has
            // not confirmed) reconciled to; changes_from moves up to it (ReconcileRound).
            let oldest =
                try await connection.one(
                    """
                    SELECT min(epoch) FROM (
                        SELECT reconciled_epoch AS epoch FROM subscription WHERE reconciled_epoch > 0
                        UNION ALL SELECT reconciled_epoch FROM pending_answer WHERE reconciled_epoch > 0
                        UNION ALL SELECT epoch FROM membership_epoch) AS e
                    """, as: Int64.self) ?? 0
            let membership = try await connection.run("DELETE FROM membership_change WHERE epoch < \(oldest) RETURNING 1")
            try await connection.run("UPDATE membership_epoch SET changes_from = greatest(changes_from, \(oldest))")
            return (pushed, membership)
        }
        let (tombstones, changes) = try await transaction("removing old tombstones") { connection in
            // Erasures judged by pushes: under the append lock, exclusive (pushes hold it shared).
            try await connection.run("SELECT pg_advisory_xact_lock(\(PostgresSchema.appendLock))")
            let tombstones = try await connection.run(
                """
                WITH gone AS (
                    DELETE FROM erasure e WHERE erased_at < \(tombstoneLimit)
                      AND NOT EXISTS (SELECT 1 FROM holding h WHERE h.customer = e.customer)
                      AND NOT EXISTS (SELECT 1 FROM pending_holding p WHERE p.customer = e.customer AND p.held)
                    RETURNING customer
                ), log AS (
                    DELETE FROM change_log WHERE customer IN (SELECT customer FROM gone) RETURNING 1
                ), pushed AS (
                    DELETE FROM pushed_customer WHERE customer IN (SELECT customer FROM gone) RETURNING 1
                )
                SELECT 1 FROM gone
                """)
            try await connection.run(
                """
                INSERT INTO log_compaction (compacted_at, horizon) VALUES (\(now.description), \(horizon))
                ON CONFLICT (singleton) DO UPDATE SET compacted_at = excluded.compacted_at,
                    horizon = greatest(log_compaction.horizon, excluded.horizon)
                """)
            let changes = try await connection.one("SELECT count(*)::bigint FROM change_log", as: Int.self) ?? 0
            return (tombstones, changes)
        }
        report.removedPushedCustomers = pushed
        report.removedMembershipChanges = membership
        report.removedTombstones = tombstones
        report.logChanges = changes
        return report
    }
}
