import OxpeckerProtocol
import OxpeckerStore
import PostgresNIO

/// What each device holds, in the PostgreSQL backend: the same subscriptions,
/// holdings and pending answers as `SQLiteSubscriptions` (read its comment),
/// in the same tables. Every method runs inside one REPEATABLE READ
/// transaction: the log's top, the membership epoch and the customers'
/// scopes it reads all belong to one committed state. The log is read only up
/// to its stable top, taken just before (``stableTop``): every change up to it
/// is committed and none will appear below it later (`PostgresServerStorage.push`). Changes above it,
/// committed but not stable, are sent by a later page; scopes and epochs may
/// already show them (a customer entering may be sent with none of them).
struct PostgresSubscriptions {
    let connection: PostgresConnection
    let device: DeviceIdentity
    /// How the log's bodies are kept (sealed on encrypted data).
    let bodies: PostgresLogBodies
    /// The log's stable top when the request began (``PostgresServerStorage/awaitStableLog()``):
    /// every change at or below it is committed, and none will appear there later.
    let stableTop: Int64

    /// The device's scopes in one canonical text, to compare with the last reconciliation's.
    var scopesKey: String {
        JSONValue.array(Set(device.scopes).sorted().map { .string($0) }).canonicalText
    }

    private func texts(_ query: PostgresQuery) async throws -> [String] {
        var values: [String] = []
        for try await value in try await connection.query(query, logger: connection.logger).decode(String.self) { values.append(value) }
        return values
    }

    // MARK: Membership

    func epoch() async throws -> Int64 {
        try await connection.one("SELECT epoch FROM membership_epoch", as: Int64.self) ?? 1
    }

    /// The first epoch from which `membership_change` records every customer whose membership changed.
    func changesFrom() async throws -> Int64 {
        try await connection.one("SELECT changes_from FROM membership_epoch", as: Int64.self) ?? 0
    }

    /// Moves the epoch: who sees `customers` may have changed (their scopes, or an erasure).
    /// The epoch's row stays locked to the commit, so epochs follow commit order.
    static func bumpEpoch(for customers: [String], on connection: PostgresConnection) async throws {
        try await connection.run("UPDATE membership_epoch SET epoch = epoch + 1")
        try await connection.run(
            """
            INSERT INTO membership_change (epoch, customer) SELECT e.epoch, unnest(\(customers)::text[]) FROM membership_epoch e
            ON CONFLICT DO NOTHING
            """)
    }

    /// The customers in the device's scopes now, in id order, after `after`, at most `limit` (nil: all).
    func visibleCustomers(after: String = "", limit: Int? = nil) async throws -> [String] {
        guard !device.scopes.isEmpty else { return [] }
        return try await texts(
            """
            SELECT DISTINCT customer FROM customer_scope
            WHERE removed_hlc IS NULL AND element = ANY(\(device.scopes)) AND customer > \(after)
            ORDER BY customer LIMIT \(Int64(limit ?? Int(Int32.max)))
            """)
    }

    /// A customer's current scopes, in order.
    func scopes(of customers: [String]) async throws -> [String: [String]] {
        var scopes: [String: [String]] = [:]
        let rows = try await connection.query(
            """
            SELECT DISTINCT customer, element FROM customer_scope WHERE customer = ANY(\(customers)) AND removed_hlc IS NULL
            ORDER BY customer, element
            """, logger: connection.logger)
        for try await (customer, element) in rows.decode((String, String).self) { scopes[customer, default: []].append(element) }
        return scopes
    }

    // MARK: Subscriptions

    /// A new subscription for the device, holding nothing yet; it replaces the
    /// device's earlier subscriptions of the same store (as ``SQLiteSubscriptions/create(at:replica:)``).
    func create(at now: Instant, replica: ReplicaID?) async throws -> Int64 {
        let subscription = try await connection.one(
            """
            INSERT INTO subscription (token_id, created_at, replica) VALUES (\(device.tokenID), \(now.description), \(replica?.rawValue))
            RETURNING id
            """, as: Int64.self) ?? 0
        if let replica {
            var replaced: [Int64] = []
            let rows = try await connection.query(
                "SELECT id FROM subscription WHERE token_id = \(device.tokenID) AND replica = \(replica.rawValue) AND id <> \(subscription)",
                logger: connection.logger)
            for try await id in rows.decode(Int64.self) { replaced.append(id) }
            if !replaced.isEmpty {
                try await connection.run("DELETE FROM holding WHERE subscription = ANY(\(replaced))")
                try await connection.run("DELETE FROM pending_holding WHERE subscription = ANY(\(replaced))")
                try await connection.run("DELETE FROM pending_answer WHERE subscription = ANY(\(replaced))")
                try await connection.run("DELETE FROM subscription WHERE id = ANY(\(replaced))")
            }
        }
        return subscription
    }

    /// Records which store a subscription made before stores said so belongs to.
    func bind(_ subscription: Int64, to replica: ReplicaID) async throws {
        try await connection.run("UPDATE subscription SET replica = \(replica.rawValue) WHERE id = \(subscription) AND replica IS NULL")
    }

    /// Makes the customers `replica`'s store created by a push holdings of its
    /// subscription, before the pull reconciles: the same as
    /// ``SQLiteSubscriptions/adoptPushedCustomers(of:into:)`` (read its comment).
    func adoptPushedCustomers(of replica: ReplicaID, into subscription: Int64) async throws {
        guard try await connection.one("SELECT token_id FROM replica_owner WHERE replica = \(replica.rawValue)", as: String.self)
            == device.tokenID
        else { return }
        try await connection.run(
            """
            INSERT INTO holding (subscription, customer, since)
                SELECT \(subscription), customer, 0 FROM pushed_customer WHERE replica = \(replica.rawValue)
            ON CONFLICT (subscription, customer) DO NOTHING
            """)
        try await connection.run("DELETE FROM pushed_customer WHERE replica = \(replica.rawValue)")
    }

    /// A new subscription holding every customer visible now, already reconciled:
    /// the cursor of a device that reads the log from its start.
    func createHoldingVisible(at now: Instant, replica: ReplicaID?) async throws -> FeedCursor.LogCursor {
        let subscription = try await create(at: now, replica: replica)
        let visible = try await visibleCustomers()
        try await connection.run(
            "INSERT INTO holding (subscription, customer, since) SELECT \(subscription), unnest(\(visible)::text[]), 0")
        try await markReconciled(subscription, epoch: try await epoch(), scopes: scopesKey)
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

    /// The subscription, if it is this device's; `lock` holds its row to the
    /// transaction's end (two requests of one store never interleave their writes).
    private func record(_ subscription: Int64, lock: Bool = false) async throws -> Record? {
        let rows = try await connection.query(
            PostgresQuery(
                unsafeSQL:
                    "SELECT token_id, confirmed_seq, reconciled_epoch, reconciled_scopes, round, coalesce(confirmed_at, created_at) FROM subscription WHERE id = $1"
                    + (lock ? " FOR UPDATE" : ""),
                binds: { var binds = PostgresBindings(); binds.append(subscription); return binds }()),
            logger: connection.logger)
        for try await (token, seq, epoch, scopes, round, seen) in rows.decode((String, Int64, Int64, String, String?, String).self)
        where token == device.tokenID {
            return Record(
                confirmedSeq: seq, reconciledEpoch: epoch, reconciledScopes: scopes, round: ReconcileRound(text: round),
                lastSync: try? Instant(parsing: seen))
        }
        return nil
    }

    private func expired(_ subscription: Int64) -> ServerError {
        ServerError(.cursorExpired, "this server has no subscription \(subscription) for this device; bootstrap again")
    }

    /// Whether a pull after `cursor` needs no reconciliation and confirms nothing: a read suffices.
    /// Not when the device's last sync is to be recorded (once a day: the log compaction's horizon counts from it).
    func isSettled(_ cursor: FeedCursor.LogCursor, at now: Instant) async throws -> Bool {
        guard cursor.entering == nil, let record = try await record(cursor.subscription), !CompactionPolicy.isStale(record.lastSync, at: now)
        else { return false }
        let epoch = try await epoch()
        return record.confirmedSeq == cursor.seq && record.reconciledEpoch == epoch && record.reconciledScopes == scopesKey
    }

    /// Confirms the answer the cursor names: its pending changes become holdings.
    func confirm(subscription: Int64, seq: Int64, at now: Instant) async throws {
        guard let record = try await record(subscription, lock: true) else { throw expired(subscription) }
        if seq == record.confirmedSeq {
            if CompactionPolicy.isStale(record.lastSync, at: now) {
                try await connection.run("UPDATE subscription SET confirmed_at = \(now.description) WHERE id = \(subscription)")
            }
            return
        }
        var answer: (Int64?, String?, String?)?
        if seq > record.confirmedSeq {
            let rows = try await connection.query(
                "SELECT reconciled_epoch, reconciled_scopes, round FROM pending_answer WHERE subscription = \(subscription) AND seq = \(seq)",
                logger: connection.logger)
            for try await row in rows.decode((Int64?, String?, String?).self) { answer = row }
        }
        guard let answer else {
            // An answer older than the one confirmed: the store went back in time (a restored backup).
            throw ServerError(.cursorExpired, "this cursor is older than the one this device confirmed; bootstrap again")
        }
        try await connection.run(
            """
            INSERT INTO holding (subscription, customer, since)
                SELECT subscription, customer, since FROM pending_holding WHERE subscription = \(subscription) AND seq = \(seq) AND held
            ON CONFLICT (subscription, customer) DO UPDATE SET since = excluded.since
            """)
        try await connection.run(
            """
            DELETE FROM holding WHERE subscription = \(subscription) AND customer IN
                (SELECT customer FROM pending_holding WHERE subscription = \(subscription) AND seq = \(seq) AND NOT held)
            """)
        try await connection.run("DELETE FROM pending_holding WHERE subscription = \(subscription) AND seq <= \(seq)")
        try await connection.run("DELETE FROM pending_answer WHERE subscription = \(subscription) AND seq <= \(seq)")
        try await connection.run(
            "UPDATE subscription SET confirmed_seq = \(seq), confirmed_at = \(now.description) WHERE id = \(subscription)")
        if let epoch = answer.0, let scopes = answer.1 {
            try await markReconciled(subscription, epoch: epoch, scopes: scopes)
        } else if let round = answer.2 {
            try await connection.run("UPDATE subscription SET round = \(round) WHERE id = \(subscription)")
        }
    }

    /// The subscription's holdings are right as of `epoch`, for token scopes `scopes`; no round is under way.
    private func markReconciled(_ subscription: Int64, epoch: Int64, scopes: String) async throws {
        try await connection.run(
            "UPDATE subscription SET reconciled_epoch = \(epoch), reconciled_scopes = \(scopes), round = NULL WHERE id = \(subscription)")
    }

    /// Records an answer that changes what the device holds; returns its seq.
    /// `added` customers are held with every change up to log position `since`.
    /// `progress`: the reconciliation round as this answer leaves it (``ReconcileRound``); confirming
    /// the answer records it, or, when the round is done, marks the subscription reconciled.
    func recordAnswer(
        _ subscription: Int64, adding added: [String], since: Int64, removing removed: [String], progress: ReconcileRound.Progress?
    ) async throws -> Int64 {
        let last = try await connection.one(
            """
            SELECT max(seq) FROM (SELECT confirmed_seq AS seq FROM subscription WHERE id = \(subscription)
                                  UNION ALL SELECT seq FROM pending_answer WHERE subscription = \(subscription)) AS s
            """, as: Int64?.self) ?? nil
        let seq = (last ?? 0) + 1
        try await connection.run(
            """
            INSERT INTO pending_answer (subscription, seq, reconciled_epoch, reconciled_scopes, round)
            VALUES (\(subscription), \(seq), \(progress?.reconciledEpoch), \(progress?.reconciledScopes), \(progress?.roundText))
            """)
        let customers = removed + added
        let held = removed.map { _ in false } + added.map { _ in true }
        let sinces = removed.map { _ in Int64(0) } + added.map { _ in since }
        if !customers.isEmpty {
            try await connection.run(
                """
                INSERT INTO pending_holding (subscription, seq, customer, held, since)
                SELECT \(subscription), \(seq), u.customer, u.held, u.since FROM unnest(\(customers)::text[], \(held)::boolean[], \(sinces)::bigint[])
                    AS u(customer, held, since)
                ON CONFLICT (subscription, seq, customer) DO UPDATE SET held = excluded.held, since = excluded.since
                """)
        }
        return seq
    }

    // MARK: Pages

    /// Purges and whole states that bring the device's holdings to the customers
    /// visible now, one page of them; nil when the holdings are already right.
    func reconcile(_ cursor: FeedCursor.LogCursor, limit: Int, at now: Instant) async throws -> LogPage? {
        guard let record = try await record(cursor.subscription) else { throw expired(cursor.subscription) }
        let epoch = try await epoch()
        let underWay = record.round.flatMap { $0.scopes == scopesKey ? $0 : nil }
        if cursor.entering == nil, underWay == nil, record.reconciledEpoch == epoch, record.reconciledScopes == scopesKey { return nil }
        var round: ReconcileRound
        if let underWay {
            round = underWay
        } else {
            round = ReconcileRound(
                epoch: epoch, scopes: scopesKey, reconciledEpoch: record.reconciledEpoch, reconciledScopes: record.reconciledScopes,
                changesFrom: try await changesFrom())
        }
        let partial = cursor.entering?.customer.rawValue
        while true {
            let slice = try await self.slice(of: round, subscription: cursor.subscription, partial: partial)
            let plan = Reconciliation(visible: slice.visible, held: slice.held, partial: partial)
            if !plan.isEmpty { return try await page(plan, slice: slice, round: round, cursor: cursor, limit: limit, at: now) }
            // Nothing to send for this slice: past it at once.
            if slice.isLast {
                try await markReconciled(cursor.subscription, epoch: round.target, scopes: round.scopes)
                return nil
            }
            round = slice.next
            try await connection.run("UPDATE subscription SET round = \(round.text) WHERE id = \(cursor.subscription)")
        }
    }

    /// One slice of `round`'s candidates (``ReconcileRound``), with `partial`, compared.
    private func slice(of round: ReconcileRound, subscription: Int64, partial: String?) async throws -> ReconcileRound.Slice {
        let count = Int64(ReconcileRound.customersPerSlice)
        var slice: ReconcileRound.Slice
        if round.full {
            var held: [String] = []
            let rows = try await connection.query(
                """
                SELECT customer FROM holding WHERE subscription = \(subscription) AND customer > \(round.afterCustomer)
                ORDER BY customer LIMIT \(count)
                """, logger: connection.logger)
            for try await customer in rows.decode(String.self) { held.append(customer) }
            let visible = try await visibleCustomers(after: round.afterCustomer, limit: Int(count))
            slice = ReconcileRound.fullSlice(visible: visible, held: held, of: round)
        } else {
            var changed: [(Int64, String)] = []
            let rows = try await connection.query(
                """
                SELECT epoch, customer FROM membership_change
                WHERE (epoch, customer) > (\(round.afterEpoch), \(round.afterCustomer)) AND epoch <= \(round.target)
                ORDER BY epoch, customer LIMIT \(count)
                """, logger: connection.logger)
            for try await row in rows.decode((Int64, String).self) { changed.append(row) }
            let (visible, held) = try await compare(changed.map(\.1), subscription: subscription)
            slice = ReconcileRound.Slice(
                visible: visible, held: held, next: changed.last.map { round.passing(epoch: $0.0, customer: $0.1) } ?? round,
                isLast: changed.count < count)
        }
        if let partial {
            let (visible, held) = try await compare([partial], subscription: subscription)
            slice.visible.formUnion(visible)
            slice.held.formUnion(held)
        }
        return slice
    }

    /// Of `customers`, those the device sees now and those `subscription` holds.
    private func compare(_ customers: [String], subscription: Int64) async throws -> (visible: Set<String>, held: Set<String>) {
        guard !customers.isEmpty else { return ([], []) }
        var visible = Set<String>(), held = Set<String>()
        let rows = try await connection.query(
            """
            SELECT m.customer,
                   EXISTS (SELECT 1 FROM customer_scope s WHERE s.customer = m.customer AND s.removed_hlc IS NULL
                           AND s.element = ANY(\(device.scopes))),
                   EXISTS (SELECT 1 FROM holding h WHERE h.subscription = \(subscription) AND h.customer = m.customer)
            FROM unnest(\(customers)::text[]) AS m(customer)
            """, logger: connection.logger)
        for try await (customer, isVisible, isHeld) in rows.decode((String, Bool, Bool).self) {
            if isVisible { visible.insert(customer) }
            if isHeld { held.insert(customer) }
        }
        return (visible, held)
    }

    /// The page of a slice's purges and entering customers; its answer carries the round's progress.
    private func page(
        _ plan: Reconciliation, slice: ReconcileRound.Slice, round: ReconcileRound, cursor: FeedCursor.LogCursor, limit: Int, at now: Instant
    ) async throws -> LogPage {
        let purged = Array(plan.leaving.prefix(Reconciliation.purgesPerPage))
        let erased = Set(try await texts("SELECT customer FROM erasure WHERE customer = ANY(\(purged))"))
        let purges = purged.map { customer in
            PurgeNotice(customer: CustomerID(unchecked: customer), reason: erased.contains(customer) ? .erased : .leftScopes, at: now)
        }
        var changes: [String] = []
        var sent: [String] = []
        var stillEntering: FeedCursor.EnteringCustomer?
        var complete = purged.count == plan.leaving.count
        if complete {
            for customer in plan.entering {
                let room = limit - changes.count
                guard room > 0 else {
                    complete = false
                    break
                }
                let from = cursor.entering?.customer.rawValue == customer ? cursor.entering?.through ?? 0 : 0
                var rows: [(Int64, String)] = []
                let state = try await connection.query(
                    """
                    SELECT position, body FROM change_log
                    WHERE customer = \(customer) AND position > \(from) AND position <= \(stableTop) AND NOT superseded
                    ORDER BY position LIMIT \(Int64(room + 1))
                    """, logger: connection.logger)
                for try await row in state.decode((Int64, String).self) { rows.append(row) }
                if rows.count <= room {
                    changes += try await bodies.openedKept(rows.map { (customer, $0.1) })
                    sent.append(customer)
                } else {
                    let part = rows.prefix(room)
                    changes += try await bodies.openedKept(part.map { (customer, $0.1) })
                    stillEntering = FeedCursor.EnteringCustomer(customer: CustomerID(unchecked: customer), through: part.last?.0 ?? from)
                    complete = false
                    break
                }
            }
        }
        // Entering customers were sent whole, up to the top of the log: the log resumes after it for them.
        let seq = try await recordAnswer(
            cursor.subscription, adding: sent, since: stableTop, removing: purged,
            progress: ReconcileRound.Progress(round: round, slice: slice, complete: complete))
        let next = FeedCursor.LogCursor(position: cursor.position, subscription: cursor.subscription, seq: seq, entering: stillEntering)
        // Always has_more: the device's next pull confirms this page, then the log follows.
        return LogPage(changes: changes, purges: purges, nextCursor: FeedCursor.log(next).cursor, hasMore: true)
    }

    /// The log after the cursor's position, of the customers the device holds,
    /// without the changes of `replica` (the pulling store has them).
    func logPage(after cursor: FeedCursor.LogCursor, limit: Int, excluding replica: ReplicaID?) async throws -> LogPage {
        var rows: [(Int64, String, String)] = []
        let page = try await connection.query(
            """
            SELECT c.position, c.customer, c.body FROM change_log c JOIN holding h ON h.customer = c.customer AND h.subscription = \(cursor.subscription)
            WHERE c.position > \(cursor.position) AND c.position <= \(stableTop) AND c.position > h.since AND c.replica <> \(replica?.rawValue ?? "")
            ORDER BY c.position LIMIT \(Int64(limit + 1))
            """, logger: connection.logger)
        for try await row in page.decode((Int64, String, String).self) { rows.append(row) }
        let shown = rows.prefix(limit)
        var next = cursor
        if rows.count > limit {
            next.position = shown.last?.0 ?? cursor.position
        } else {
            // Everything up to the stable top has been looked at (nothing will appear below it; the same snapshot).
            next.position = max(cursor.position, stableTop)
        }
        let changes = try await bodies.openedKept(shown.map { ($0.1, $0.2) })
        return LogPage(changes: changes, purges: [], nextCursor: FeedCursor.log(next).cursor, hasMore: rows.count > limit)
    }

    /// A bootstrap page: customers visible now after the cursor's, with their state up to its position.
    func snapshotPage(_ cursor: FeedCursor.SnapshotCursor, limit: Int) async throws -> SnapshotPage {
        let customers = try await visibleCustomers(after: cursor.after.rawValue, limit: limit + 1)
        let page = Array(customers.prefix(limit))
        let scopes = try await scopes(of: page)
        var logged: [(customer: String, body: String)] = []
        let rows = try await connection.query(
            """
            SELECT customer, body FROM change_log WHERE customer = ANY(\(page)) AND position <= \(cursor.position) AND NOT superseded
            ORDER BY customer, position
            """, logger: connection.logger)
        for try await row in rows.decode((String, String).self) { logged.append(row) }
        var changes: [String: [String]] = [:]
        for (row, body) in zip(logged, try await bodies.opened(logged)) {
            if let body { changes[row.customer, default: []].append(body) }
        }
        let snapshots = page.map { customer in
            SnapshotCustomer(customer: CustomerID(unchecked: customer), scopes: scopes[customer] ?? [], changes: changes[customer] ?? [])
        }
        let seq = try await recordAnswer(cursor.subscription, adding: page, since: cursor.position, removing: [], progress: nil)
        return SnapshotPage(customers: snapshots, of: cursor, seq: seq, more: customers.count > limit)
    }
}

extension PostgresServerStorage {
    /// How long a pull waits for the changes committed before it to become stable.
    static let stableLogWait: Duration = .seconds(2)

    /// The log's stable top (``PostgresSchema/stable``), once the top row as committed now
    /// is stable (the pushes older than it, still in flight, have ended) or gone. Pushes take
    /// milliseconds, so a pull right after a push sees it; after ``stableLogWait`` it is what
    /// is stable then (a later pull sends the rest). Each look is one statement: its snapshot
    /// and the activity it reads are an instant apart, so a transaction of another database
    /// that ended meanwhile rarely counts (and never makes a row stable that is not).
    func awaitStableLog() async throws -> Int64 {
        let stableTop = "SELECT position FROM change_log WHERE \(PostgresSchema.stable) ORDER BY position DESC LIMIT 1"
        let (top, first) = try await transaction("reading the log's top") { connection -> (Int64?, Int64?) in
            for try await row in try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT (SELECT position FROM change_log ORDER BY position DESC LIMIT 1), (\(stableTop))"),
                logger: connection.logger
            ).decode((Int64?, Int64?).self) { return row }
            return (nil, nil)
        }
        guard let top else { return 0 }
        var stable = first ?? 0
        let clock = ContinuousClock()
        let deadline = clock.now + Self.stableLogWait
        var pause = Duration.milliseconds(1)
        while stable < top, clock.now < deadline {
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(50))
            let (reached, now) = try await transaction("waiting for the log's top") { connection -> (Bool, Int64?) in
                for try await row in try await connection.query(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT coalesce((SELECT \(PostgresSchema.stable) FROM change_log WHERE position = \(top)), true), (\(stableTop))
                            """), logger: connection.logger
                ).decode((Bool, Int64?).self) { return row }
                return (true, nil)
            }
            stable = now ?? 0
            // The top row gone (an erasure, a compaction) leaves nothing to wait for.
            if reached { return stable }
        }
        if stable < top { logger.debug("the log's top is still not stable; pulling what is", metadata: ["top": "\(top)", "stable": "\(stable)"]) }
        return stable
    }

    public func pull(after cursor: SyncCursor?, limit: Int, for device: DeviceIdentity, replica: ReplicaID?, at now: Instant) async throws -> LogPage {
        let parsed = try cursor.map { cursor throws(ServerError) in try FeedCursor.log(parsing: cursor) }
        let stableTop = try await awaitStableLog()
        if let parsed {
            // Most pulls confirm nothing and find the device's customers unchanged: a read.
            let settled = try await transaction("pulling", snapshot: true) { connection in
                let subscriptions = PostgresSubscriptions(connection: connection, device: device, bodies: self.bodies, stableTop: stableTop)
                return try await subscriptions.isSettled(parsed, at: now)
                    ? try await subscriptions.logPage(after: parsed, limit: limit, excluding: replica) : nil
            }
            if let settled { return settled }
        }
        return try await transaction("pulling", snapshot: true) { connection in
            let subscriptions = PostgresSubscriptions(connection: connection, device: device, bodies: self.bodies, stableTop: stableTop)
            let cursor: FeedCursor.LogCursor
            if let parsed {
                try await subscriptions.confirm(subscription: parsed.subscription, seq: parsed.seq, at: now)
                cursor = parsed
            } else {
                cursor = try await subscriptions.createHoldingVisible(at: now, replica: replica)
            }
            if let replica {
                try await subscriptions.bind(cursor.subscription, to: replica)
                try await subscriptions.adoptPushedCustomers(of: replica, into: cursor.subscription)
            }
            if let page = try await subscriptions.reconcile(cursor, limit: limit, at: now) { return page }
            return try await subscriptions.logPage(
                after: FeedCursor.LogCursor(position: cursor.position, subscription: cursor.subscription, seq: cursor.seq), limit: limit,
                excluding: replica)
        }
    }

    public func snapshot(page: SyncCursor?, limit: Int, for device: DeviceIdentity, replica: ReplicaID?, at now: Instant) async throws -> SnapshotPage {
        let parsed = try page.map { page throws(ServerError) in try FeedCursor.snapshot(parsing: page) }
        // A later page reads the state as of its snapshot's position, the stable top it began at.
        let stableTop = if let parsed { parsed.position } else { try await awaitStableLog() }
        return try await transaction("reading a snapshot", snapshot: true) { connection in
            let subscriptions = PostgresSubscriptions(connection: connection, device: device, bodies: self.bodies, stableTop: stableTop)
            let cursor: FeedCursor.SnapshotCursor
            if let parsed {
                try await subscriptions.confirm(subscription: parsed.subscription, seq: parsed.seq, at: now)
                cursor = parsed
            } else {
                cursor = FeedCursor.SnapshotCursor(
                    position: subscriptions.stableTop, subscription: try await subscriptions.create(at: now, replica: replica), seq: 0,
                    after: CustomerID(unchecked: ""))
            }
            return try await subscriptions.snapshotPage(cursor, limit: limit)
        }
    }
}
