import GRDB
import OxpeckerProtocol
import OxpeckerStore

/// What each device holds, in the SQLite backend (`Protocol/README.md`, "Scopes").
///
/// A **subscription** is one bootstrapped store. Its **holdings** are the
/// customers the device has confirmed it holds. An answer that changes them
/// (a bootstrap page, a pull page with purges or entering customers) is stored
/// as *pending* under a new `seq`, named in the cursor it returns; the device's
/// next request carries that cursor, which confirms the answer: its pending
/// changes become holdings. An answer that was lost is never confirmed (the
/// device retries with its older cursor), so holdings are always exactly what
/// the device stored.
///
/// Whenever the customers in the device's scopes may have changed (the
/// membership epoch moved, or the token's scopes differ from those of the last
/// reconciliation), a pull first reconciles: customers held but no longer
/// visible are purged, customers visible but not held are sent whole.
struct SQLiteSubscriptions {
    let db: Database
    let device: DeviceIdentity

    /// The device's scopes in one canonical text, to compare with the last reconciliation's.
    var scopesKey: String {
        JSONValue.array(Set(device.scopes).sorted().map { .string($0) }).canonicalText
    }

    // MARK: Membership

    /// Bumped whenever a customer's scopes change or a customer is erased.
    static func epoch(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT epoch FROM membership_epoch")) ?? 1
    }

    /// The first epoch from which `membership_change` records every customer whose membership changed.
    static func changesFrom(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT changes_from FROM membership_epoch")) ?? 0
    }

    /// Moves the epoch: who sees `customer` may have changed (its scopes, or its erasure).
    static func bumpEpoch(for customer: String, in db: Database) throws {
        try db.cachedStatement(sql: "UPDATE membership_epoch SET epoch = epoch + 1").execute()
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO membership_change (epoch, customer) SELECT epoch, ? FROM membership_epoch")
            .execute(arguments: [customer])
    }

    /// The customers in the device's scopes now, in id order, after `after`, at most `limit` (nil: all).
    func visibleCustomers(after: String = "", limit: Int? = nil) throws -> [String] {
        guard !device.scopes.isEmpty else { return [] }
        guard let limit else {
            let marks = Array(repeating: "?", count: device.scopes.count).joined(separator: ", ")
            return try String.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT customer_id FROM set_element
                    WHERE field = 'scopes' AND removed_hlc IS NULL AND element IN (\(marks)) AND customer_id > ?
                    ORDER BY customer_id
                    """,
                arguments: StatementArguments(device.scopes) + [after])
        }
        // The first `limit` of each scope, merged: one query over several scopes sorts every
        // visible customer after `after` (a bootstrap page cost O(customers), the bootstrap
        // O(customers²)); one ordered index range per scope stops at `limit`.
        let firstOfScope = try db.cachedStatement(
            sql: """
                SELECT DISTINCT customer_id FROM set_element
                WHERE field = 'scopes' AND element = ? AND removed_hlc IS NULL AND customer_id > ?
                ORDER BY customer_id LIMIT ?
                """)
        var found = Set<String>()
        for scope in Set(device.scopes) { found.formUnion(try String.fetchAll(firstOfScope, arguments: [scope, after, limit])) }
        return Array(found.sorted().prefix(limit))
    }

    /// What the device may know of a customer when it pushes a change of it
    /// (``PushRules/customerRefusal(of:standing:device:)``), `state` being the customer's
    /// state with at least its presence and scopes, as the push's earlier changes left it
    /// (``RemoteBatch/state(of:)``): whether it exists and whom it is visible to come from
    /// the state, not from the tables the push has not written yet.
    func standing(of state: CustomerState) throws -> PushRules.CustomerStanding {
        let id = state.customer.rawValue
        if try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM erasure WHERE customer = ?"), arguments: [id]) ?? false {
            let seen = try Bool.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT EXISTS (SELECT 1 FROM audit_event WHERE customer = ?2 AND actor = ?1 AND action = 'change')
                            OR EXISTS (SELECT 1 FROM subscription s WHERE s.token_id = ?1
                                AND (EXISTS (SELECT 1 FROM holding WHERE subscription = s.id AND customer = ?2)
                                     OR EXISTS (SELECT 1 FROM pending_holding WHERE subscription = s.id AND customer = ?2 AND held = 1)))
                        """),
                arguments: [device.tokenID, id]) ?? false
            return .erased(seenByDevice: seen)
        }
        guard state.isPresent else { return .new }
        let scopes = state.sets[ProfileSet.scopes.name]?.elements ?? []
        return scopes.contains(where: device.scopes.contains) ? .visible : .hidden
    }

    /// A customer's current scopes, in order.
    static func scopes(of customer: String, in db: Database) throws -> [String] {
        try String.fetchAll(
            db.cachedStatement(
                sql: "SELECT DISTINCT element FROM set_element WHERE customer_id = ? AND field = 'scopes' AND removed_hlc IS NULL ORDER BY element"),
            arguments: [customer])
    }

    // MARK: Subscriptions

    /// A new subscription for the device, holding nothing yet. It replaces the
    /// device's earlier subscriptions of the same store (`replica`), which are
    /// forgotten: a store starts a new one only after clearing what it held.
    func create(at now: Instant, replica: ReplicaID?) throws -> Int64 {
        try db.execute(
            sql: "INSERT INTO subscription (token_id, created_at, replica) VALUES (?, ?, ?)",
            arguments: [device.tokenID, now.description, replica?.rawValue])
        let subscription = db.lastInsertedRowID
        if let replica {
            let replaced = try Int64.fetchAll(
                db, sql: "SELECT id FROM subscription WHERE token_id = ? AND replica = ? AND id <> ?",
                arguments: [device.tokenID, replica.rawValue, subscription])
            for old in replaced {
                try Self.removeHoldingsAndAnswers(of: old, in: db)
                try db.execute(sql: "DELETE FROM subscription WHERE id = ?", arguments: [old])
            }
        }
        return subscription
    }

    /// Forgets what `subscription` holds and the answers it has not confirmed.
    static func removeHoldingsAndAnswers(of subscription: Int64, in db: Database) throws {
        for table in ["holding", "pending_holding", "pending_answer"] {
            try db.execute(sql: "DELETE FROM \(table) WHERE subscription = ?", arguments: [subscription])
        }
    }

    /// Records which store a subscription made before stores said so belongs to
    /// (its next bootstrap then replaces it).
    func bind(_ subscription: Int64, to replica: ReplicaID) throws {
        try db.cachedStatement(sql: "UPDATE subscription SET replica = ? WHERE id = ? AND replica IS NULL")
            .execute(arguments: [replica.rawValue, subscription])
    }

    /// Records that `replica`'s store created `customer` by a push: it holds it from
    /// then on, though no pull answer said so (``adoptPushedCustomers(of:into:)``).
    static func recordPushedCustomer(_ customer: CustomerID, by replica: ReplicaID, at now: String, in db: Database) throws {
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO pushed_customer (replica, customer, recorded_at) VALUES (?, ?, ?)")
            .execute(arguments: [replica.rawValue, customer.rawValue, now])
    }

    /// Makes the customers `replica`'s store created by a push holdings of its
    /// subscription, before the pull reconciles (`Protocol/README.md`, "Scopes"):
    /// a customer reassigned out of the device's scopes between the push and
    /// this pull is then purged, and one still visible is not sent whole again.
    /// Held with every change (`since` 0): the log brings the other stores'
    /// changes of it after the cursor, and none came before its creation.
    /// Only for a replica of this device's token (the one that pushed it).
    func adoptPushedCustomers(of replica: ReplicaID, into subscription: Int64) throws {
        guard try String.fetchOne(
            db.cachedStatement(sql: "SELECT token_id FROM replica_owner WHERE replica = ?"), arguments: [replica.rawValue]) == device.tokenID
        else { return }
        try db.cachedStatement(
            sql: """
                INSERT OR IGNORE INTO holding (subscription, customer, since)
                    SELECT ?, customer, 0 FROM pushed_customer WHERE replica = ?
                """
        ).execute(arguments: [subscription, replica.rawValue])
        try db.cachedStatement(sql: "DELETE FROM pushed_customer WHERE replica = ?").execute(arguments: [replica.rawValue])
    }

    /// A new subscription holding every customer visible now, already reconciled:
    /// the cursor of a device that reads the log from its start.
    func createHoldingVisible(at now: Instant, replica: ReplicaID?) throws -> FeedCursor.LogCursor {
        let subscription = try create(at: now, replica: replica)
        let insert = try db.cachedStatement(sql: "INSERT INTO holding (subscription, customer, since) VALUES (?, ?, 0)")
        for customer in try visibleCustomers() { try insert.execute(arguments: [subscription, customer]) }
        try markReconciled(subscription, epoch: try Self.epoch(db), scopes: scopesKey)
        return FeedCursor.LogCursor(position: 0, subscription: subscription, seq: 0)
    }

    private struct Record {
        let confirmedSeq: Int64
        let reconciledEpoch: Int64
        let reconciledScopes: String
        /// The reconciliation round under way, if any.
        let round: ReconcileRound?
        /// The device's last sync as recorded (``CompactionPolicy/lastSyncResolutionMillis``).
        let lastSync: Instant?
    }

    private func record(_ subscription: Int64) throws -> Record? {
        guard let row = try Row.fetchOne(
            db.cachedStatement(
                sql: "SELECT token_id, confirmed_seq, reconciled_epoch, reconciled_scopes, round, coalesce(confirmed_at, created_at) FROM subscription WHERE id = ?"),
            arguments: [subscription]),
            (row[0] as String) == device.tokenID
        else { return nil }
        return Record(
            confirmedSeq: row[1], reconciledEpoch: row[2], reconciledScopes: row[3], round: ReconcileRound(text: row[4]),
            lastSync: try? Instant(parsing: row[5] as String))
    }

    private func expired(_ subscription: Int64) -> ServerError {
        ServerError(.cursorExpired, "this server has no subscription \(subscription) for this device; bootstrap again")
    }

    /// Whether a pull after `cursor` needs no reconciliation and confirms nothing: a read suffices.
    /// Not when the device's last sync is to be recorded (once a day: the log compaction's horizon counts from it).
    func isSettled(_ cursor: FeedCursor.LogCursor, at now: Instant) throws -> Bool {
        guard cursor.entering == nil, let record = try record(cursor.subscription), !CompactionPolicy.isStale(record.lastSync, at: now)
        else { return false }
        let epoch = try Self.epoch(db)
        return record.confirmedSeq == cursor.seq && record.reconciledEpoch == epoch && record.reconciledScopes == scopesKey
    }

    /// Confirms the answer the cursor names: its pending changes become holdings.
    func confirm(subscription: Int64, seq: Int64, at now: Instant) throws {
        guard let record = try record(subscription) else { throw expired(subscription) }
        if seq == record.confirmedSeq {
            if CompactionPolicy.isStale(record.lastSync, at: now) {
                try db.execute(sql: "UPDATE subscription SET confirmed_at = ? WHERE id = ?", arguments: [now.description, subscription])
            }
            return
        }
        guard seq > record.confirmedSeq,
            let answer = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT reconciled_epoch, reconciled_scopes, round FROM pending_answer WHERE subscription = ? AND seq = ?"),
                arguments: [subscription, seq])
        else {
            // An answer older than the one confirmed: the store went back in time (a restored backup).
            throw ServerError(.cursorExpired, "this cursor is older than the one this device confirmed; bootstrap again")
        }
        for sql in [
            """
            INSERT OR REPLACE INTO holding (subscription, customer, since)
                SELECT subscription, customer, since FROM pending_holding WHERE subscription = ? AND seq = ? AND held = 1
            """,
            """
            DELETE FROM holding WHERE subscription = ?1 AND customer IN
                (SELECT customer FROM pending_holding WHERE subscription = ?1 AND seq = ?2 AND held = 0)
            """,
            "DELETE FROM pending_holding WHERE subscription = ? AND seq <= ?",
            "DELETE FROM pending_answer WHERE subscription = ? AND seq <= ?",
        ] {
            try db.execute(sql: sql, arguments: [subscription, seq])
        }
        try db.execute(
            sql: "UPDATE subscription SET confirmed_seq = ?, confirmed_at = ? WHERE id = ?", arguments: [seq, now.description, subscription])
        if let epoch = answer[0] as Int64?, let scopes = answer[1] as String? {
            try markReconciled(subscription, epoch: epoch, scopes: scopes)
        } else if let round = answer[2] as String? {
            try db.execute(sql: "UPDATE subscription SET round = ? WHERE id = ?", arguments: [round, subscription])
        }
    }

    /// The subscription's holdings are right as of `epoch`, for token scopes `scopes`; no round is under way.
    private func markReconciled(_ subscription: Int64, epoch: Int64, scopes: String) throws {
        try db.execute(
            sql: "UPDATE subscription SET reconciled_epoch = ?, reconciled_scopes = ?, round = NULL WHERE id = ?",
            arguments: [epoch, scopes, subscription])
    }

    /// Records an answer that changes what the device holds; returns its seq.
    /// `added` customers are held with every change up to log position `since`.
    /// `progress`: the reconciliation round as this answer leaves it (``ReconcileRound``); confirming
    /// the answer records it, or, when the round is done, marks the subscription reconciled.
    func recordAnswer(
        _ subscription: Int64, adding added: [String], since: Int64, removing removed: [String], progress: ReconcileRound.Progress?
    ) throws -> Int64 {
        let last = try Int64.fetchOne(
            db, sql: "SELECT max(seq) FROM (SELECT confirmed_seq AS seq FROM subscription WHERE id = ?1 UNION ALL SELECT seq FROM pending_answer WHERE subscription = ?1)",
            arguments: [subscription]) ?? 0
        let seq = last + 1
        try db.execute(
            sql: "INSERT INTO pending_answer (subscription, seq, reconciled_epoch, reconciled_scopes, round) VALUES (?, ?, ?, ?, ?)",
            arguments: [subscription, seq, progress?.reconciledEpoch, progress?.reconciledScopes, progress?.roundText])
        let insert = try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO pending_holding (subscription, seq, customer, held, since) VALUES (?, ?, ?, ?, ?)")
        for customer in removed { try insert.execute(arguments: [subscription, seq, customer, 0, 0]) }
        for customer in added { try insert.execute(arguments: [subscription, seq, customer, 1, since]) }
        return seq
    }

    // MARK: Pages

    /// Purges and whole states that bring the device's holdings to the customers
    /// visible now, one page of them; nil when the holdings are already right.
    func reconcile(_ cursor: FeedCursor.LogCursor, limit: Int, at now: Instant) throws -> LogPage? {
        guard let record = try record(cursor.subscription) else { throw expired(cursor.subscription) }
        let epoch = try Self.epoch(db)
        let underWay = record.round.flatMap { $0.scopes == scopesKey ? $0 : nil }
        if cursor.entering == nil, underWay == nil, record.reconciledEpoch == epoch, record.reconciledScopes == scopesKey { return nil }
        var round = try underWay ?? ReconcileRound(
            epoch: epoch, scopes: scopesKey, reconciledEpoch: record.reconciledEpoch, reconciledScopes: record.reconciledScopes,
            changesFrom: Self.changesFrom(db))
        let partial = cursor.entering?.customer.rawValue
        while true {
            let slice = try self.slice(of: round, subscription: cursor.subscription, partial: partial)
            let plan = Reconciliation(visible: slice.visible, held: slice.held, partial: partial)
            if !plan.isEmpty { return try page(plan, slice: slice, round: round, cursor: cursor, limit: limit, at: now) }
            // Nothing to send for this slice: past it at once.
            if slice.isLast {
                try markReconciled(cursor.subscription, epoch: round.target, scopes: round.scopes)
                return nil
            }
            round = slice.next
            try db.execute(sql: "UPDATE subscription SET round = ? WHERE id = ?", arguments: [round.text, cursor.subscription])
        }
    }

    /// One slice of `round`'s candidates (``ReconcileRound``), with `partial`, compared.
    private func slice(of round: ReconcileRound, subscription: Int64, partial: String?) throws -> ReconcileRound.Slice {
        let count = ReconcileRound.customersPerSlice
        var slice: ReconcileRound.Slice
        if round.full {
            let held = try String.fetchAll(
                db.cachedStatement(sql: "SELECT customer FROM holding WHERE subscription = ? AND customer > ? ORDER BY customer LIMIT ?"),
                arguments: [subscription, round.afterCustomer, count])
            slice = ReconcileRound.fullSlice(visible: try visibleCustomers(after: round.afterCustomer, limit: count), held: held, of: round)
        } else {
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT epoch, customer FROM membership_change WHERE (epoch, customer) > (?, ?) AND epoch <= ?
                        ORDER BY epoch, customer LIMIT ?
                        """),
                arguments: [round.afterEpoch, round.afterCustomer, round.target, count])
            let (visible, held) = try compare(rows.map { $0[1] }, subscription: subscription)
            slice = ReconcileRound.Slice(
                visible: visible, held: held, next: rows.last.map { round.passing(epoch: $0[0], customer: $0[1]) } ?? round,
                isLast: rows.count < count)
        }
        if let partial {
            let (visible, held) = try compare([partial], subscription: subscription)
            slice.visible.formUnion(visible)
            slice.held.formUnion(held)
        }
        return slice
    }

    /// Of `customers`, those the device sees now and those `subscription` holds.
    private func compare(_ customers: [String], subscription: Int64) throws -> (visible: Set<String>, held: Set<String>) {
        guard !customers.isEmpty else { return ([], []) }
        let marks = Array(repeating: "?", count: customers.count).joined(separator: ", ")
        var visible = Set<String>()
        if !device.scopes.isEmpty {
            let scopeMarks = Array(repeating: "?", count: device.scopes.count).joined(separator: ", ")
            visible = Set(try String.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT customer_id FROM set_element
                    WHERE field = 'scopes' AND removed_hlc IS NULL AND element IN (\(scopeMarks)) AND customer_id IN (\(marks))
                    """,
                arguments: StatementArguments(device.scopes) + StatementArguments(customers)))
        }
        let held = Set(try String.fetchAll(
            db, sql: "SELECT customer FROM holding WHERE subscription = ? AND customer IN (\(marks))",
            arguments: [subscription] + StatementArguments(customers)))
        return (visible, held)
    }

    /// The page of a slice's purges and entering customers; its answer carries the round's progress.
    private func page(
        _ plan: Reconciliation, slice: ReconcileRound.Slice, round: ReconcileRound, cursor: FeedCursor.LogCursor, limit: Int, at now: Instant
    ) throws -> LogPage {
        let (leaving, entering) = (plan.leaving, plan.entering)
        let purged = Array(leaving.prefix(Reconciliation.purgesPerPage))
        let purges = try purged.map { customer in
            let erased = try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM erased_customer WHERE id = ?"), arguments: [customer]) ?? false
            return PurgeNotice(customer: CustomerID(unchecked: customer), reason: erased ? .erased : .leftScopes, at: now)
        }
        var changes: [String] = []
        var sent: [String] = []
        var stillEntering: FeedCursor.EnteringCustomer?
        var complete = purged.count == leaving.count
        if complete {
            let state = try db.cachedStatement(
                sql: "SELECT position, oxp_open(customer, body) FROM change_log WHERE customer = ? AND position > ? AND superseded = 0 ORDER BY position LIMIT ?")
            for customer in entering {
                let room = limit - changes.count
                guard room > 0 else {
                    complete = false
                    break
                }
                let from = cursor.entering?.customer.rawValue == customer ? cursor.entering?.through ?? 0 : 0
                let rows = try Row.fetchAll(state, arguments: [customer, from, room + 1])
                if rows.count <= room {
                    changes += rows.map { $0[1] }
                    sent.append(customer)
                } else {
                    let part = rows.prefix(room)
                    changes += part.map { $0[1] }
                    stillEntering = FeedCursor.EnteringCustomer(customer: CustomerID(unchecked: customer), through: part.last.map { $0[0] } ?? from)
                    complete = false
                    break
                }
            }
        }
        // Entering customers were sent whole, up to the top of the log: the log resumes after it for them.
        let top = try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(position) FROM change_log")) ?? 0
        let seq = try recordAnswer(
            cursor.subscription, adding: sent, since: top, removing: purged,
            progress: ReconcileRound.Progress(round: round, slice: slice, complete: complete))
        let next = FeedCursor.LogCursor(position: cursor.position, subscription: cursor.subscription, seq: seq, entering: stillEntering)
        // Always has_more: the device's next pull confirms this page, then the log follows.
        return LogPage(changes: changes, purges: purges, nextCursor: FeedCursor.log(next).cursor, hasMore: true)
    }

    /// The log after the cursor's position, of the customers the device holds,
    /// without the changes of `replica` (the pulling store has them).
    ///
    /// `CROSS JOIN` keeps the log as the outer loop: a page reads the log forward
    /// from the cursor and stops at its limit (the planner would otherwise start
    /// from the holdings and sort every later change of every held customer).
    func logPage(after cursor: FeedCursor.LogCursor, limit: Int, excluding replica: ReplicaID?) throws -> LogPage {
        let rows = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT c.position, oxp_open(c.customer, c.body) FROM change_log c CROSS JOIN holding h ON h.customer = c.customer AND h.subscription = ?2
                    WHERE c.position > ?1 AND c.position > h.since AND c.replica <> ?4
                    ORDER BY c.position LIMIT ?3
                    """),
            arguments: [cursor.position, cursor.subscription, limit + 1, replica?.rawValue ?? ""])
        let page = rows.prefix(limit)
        var next = cursor
        if rows.count > limit {
            next.position = page.last.map { $0[0] } ?? cursor.position
        } else {
            // Everything up to the top of the log has been looked at (positions only grow).
            let top = try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(position) FROM change_log")) ?? 0
            next.position = max(cursor.position, top)
        }
        return LogPage(changes: page.map { $0[1] }, purges: [], nextCursor: FeedCursor.log(next).cursor, hasMore: rows.count > limit)
    }

    /// A bootstrap page: customers visible now after the cursor's, with their state up to its position.
    func snapshotPage(_ cursor: FeedCursor.SnapshotCursor, limit: Int) throws -> SnapshotPage {
        let customers = try visibleCustomers(after: cursor.after.rawValue, limit: limit + 1)
        let page = Array(customers.prefix(limit))
        let changes = try db.cachedStatement(
            sql: "SELECT oxp_open(customer, body) FROM change_log WHERE customer = ? AND position <= ? AND superseded = 0 ORDER BY position")
        let snapshots = try page.map { customer in
            SnapshotCustomer(
                customer: CustomerID(unchecked: customer), scopes: try Self.scopes(of: customer, in: db),
                changes: try String.fetchAll(changes, arguments: [customer, cursor.position]))
        }
        let seq = try recordAnswer(cursor.subscription, adding: page, since: cursor.position, removing: [], progress: nil)
        return SnapshotPage(customers: snapshots, of: cursor, seq: seq, more: customers.count > limit)
    }
}
