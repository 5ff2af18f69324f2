import OxpeckerProtocol
import OxpeckerStore
import PostgresNIO

/// A push: one transaction, judged by the same rules as the SQLite backend's.
///
/// **Concurrent pushes, and the log's order.** Pushes of different stores and
/// customers run at once, on any number of instances. Two things make that safe.
///
/// *Judgements.* A push first takes transaction-scoped advisory locks on its
/// replica and on every customer it carries (`pg_advisory_xact_lock`, two-key
/// form in `PostgresSchema.pushLockSpace`, taken in one statement in hash order,
/// so two pushes never wait on each other in a cycle), and the append lock in
/// shared mode. So every judgement (duplicate, erased, in the device's scopes,
/// which register write is the latest, which notes are redacted) sees every push
/// of the same customer or replica committed before, as SQLite's single writer
/// does. An erasure, and a compaction's removal of tombstones, take the append
/// lock exclusive: they wait for the pushes in flight and the next ones wait for them.
///
/// *The log's order.* A sequence alone is not enough: push A may take position 7
/// and push B position 8, B commits first, a puller reads 8 and moves its cursor
/// past 7, then A commits 7 and that puller never sees it. So each log row records
/// its transaction id (`change_log.xid`), and a push takes its transaction id and
/// its positions in one short critical section (`oxp_take_positions`, under a
/// session advisory lock held for that instant only, before the push's first
/// write): position order is transaction id order. A reader takes only *stable*
/// rows, those whose transaction is older than every transaction still in flight
/// in its snapshot (`pg_snapshot_xip`) but those running in other databases of the
/// cluster (``PostgresSchema/stable``). Every row a push still in flight will
/// write has a higher transaction id than any stable row, so a higher position: the
/// stable rows are every change up to some position, and a change committed later
/// always lands above it. A puller
/// whose log's top is not stable yet waits for it, briefly (``PostgresServerStorage/awaitStableLog()``).
///
/// What still takes turns: pushes of one customer or one store; the position
/// critical section (microseconds); pushes that change scopes, on the membership
/// epoch's row; every push against an erasure. Measured in BENCHMARKS.md
/// ("Concurrent pushes on PostgreSQL").
extension PostgresServerStorage {
    public func push(_ request: PushRequest, from device: DeviceIdentity, policy: PushPolicy) async throws -> PushResponse {
        try await transaction("pushing") { connection in
            try await PostgresPush(request: request, device: device, policy: policy, connection: connection, bodies: self.bodies).run()
        }
    }
}

/// One push's work inside its transaction.
private struct PostgresPush {
    let request: PushRequest
    let device: DeviceIdentity
    let policy: PushPolicy
    let connection: PostgresConnection
    let bodies: PostgresLogBodies

    private struct Key: Hashable {
        let replica: String
        let number: Int64
        init(_ change: Change) {
            replica = change.replica.rawValue
            number = change.number
        }
        init(_ replica: String, _ number: Int64) {
            self.replica = replica
            self.number = number
        }
    }

    /// A live (not superseded) write of a profile register: in the log (`position`) or in this push (`index` into `accepted`).
    private struct LiveRegister {
        var position: Int64?
        var index: Int?
        let hlc: String
    }

    private struct Accepted {
        var change: Change
        var superseded: Bool
    }

    func run() async throws -> PushResponse {
        var results: [PushResult?] = Array(repeating: nil, count: request.items.count)
        var pending: [(index: Int, change: Change)] = []
        for (index, item) in request.items.enumerated() {
            if let change = item.change { pending.append((index, change)) } else { results[index] = PushRules.unsupported(item.number) }
        }
        let changes = pending.map(\.change)
        let customers = Array(Set(changes.map(\.customer.rawValue)))
        try await lock(customers: customers)
        let claim = try await judgeClaim()

        var logged = try await loggedKeys(of: changes)
        var refused = try await storedRefusals(of: changes)
        let erased = try await texts("SELECT customer FROM erasure WHERE customer = ANY(\(customers))")
        let seenErased = try await seen(Array(erased))
        var known = try await texts("SELECT customer FROM known_customer WHERE customer = ANY(\(customers))")
        let knownBefore = known
        var scopes = try await customerScopes(of: customers)
        var live = try await liveRegisters(of: customers)
        let acknowledged =
            try await connection.one(
                "SELECT acknowledged_through FROM replica_progress WHERE replica = \(request.replica.rawValue)", as: Int64.self) ?? 0

        let codec = WireCodec()
        var accepted: [Accepted] = []
        var newRefusals: [(Change, ErrorCode, String)] = []
        var scopeChanges: [Change] = []
        var scopeTags: [ScopeTag] = []  // tags of customer_scope the push's changes changed
        var supersede: [Int64] = []  // logged register writes a write of this push replaced
        for (index, change) in pending {
            let key = Key(change)
            if let stored = logged[key] {
                results[index] = PushRules.replicaConflict(of: change, stored: stored) ?? PushResult(number: change.number, outcome: .duplicate)
                continue
            }
            if let (reason, message) = refused[key] {
                results[index] = PushResult(number: change.number, outcome: .rejected, reason: reason, message: message)
                continue
            }
            if let skew = PushRules.clockSkew(of: change, policy: policy) {
                // Not stored in push_refusal, nor counted by advanceProgress: the device restamps the
                // change (a new body under this number) once its clock is fixed, and that one must be taken.
                results[index] = skew
                continue
            }
            let customer = change.customer.rawValue
            var refusal: (ErrorCode, String)?
            if let message = PushRules.deviceRefusal(of: change) {
                refusal = (.invalidChange, message)
            } else if let customerRefusal = PushRules.customerRefusal(
                of: change,
                standing: erased.contains(customer)
                    ? .erased(seenByDevice: seenErased.contains(customer))
                    : !known.contains(customer) ? .new
                    : Set(scopes[customer]?.elements ?? []).isDisjoint(with: device.scopes) ? .hidden : .visible,
                device: device)
            {
                refusal = customerRefusal
            } else if case .failure(let rejection) = ValidatedChange.check(change) {
                refusal = (.invalidChange, rejection.reason)
            }
            if let (code, message) = refusal {
                newRefusals.append((change, code, message))
                refused[key] = (code, message)
                results[index] = PushResult(number: change.number, outcome: .rejected, reason: code, message: message)
                continue
            }
            if change.number <= acknowledged {
                // Neither logged nor refused, yet acknowledged: stored once, then compacted away (CompactionPolicy).
                results[index] = PushResult(number: change.number, outcome: .duplicate)
                continue
            }
            var superseded = false
            if change.kind == .register, change.entity == .profile, let field = change.field {
                // Only the latest write of a register still matters for a snapshot.
                let registerKey = customer + "\u{1F}" + field
                let (replaced, standing) = try RegisterRule.partition(live[registerKey] ?? [], against: change.hlc) {
                    try HybridTimestamp(parsing: $0.hlc)
                }
                for write in replaced {
                    if let position = write.position { supersede.append(position) }
                    if let earlier = write.index { accepted[earlier].superseded = true }
                }
                superseded = !standing.isEmpty
                var kept = standing
                if !superseded { kept.append(LiveRegister(position: nil, index: accepted.count, hlc: change.hlc.description)) }
                live[registerKey] = kept
            }
            if PushRules.movesScopes(change), let element = change.value["element"]?.stringValue {
                // The merge is the set's; only the tags it changed are written.
                let changedTags =
                    change.value["op"]?.stringValue == "add"
                    ? (scopes[customer, default: AddWinsSet()].add(element, tag: change.hlc) ? [change.hlc] : [])
                    : scopes[customer, default: AddWinsSet()].remove(element, observed: change.observed, at: change.hlc)
                scopeTags += changedTags.map { ScopeTag(customer: customer, element: element, tag: $0) }
                scopeChanges.append(change)
            }
            known.insert(customer)
            logged[key] = codec.encodeText(change)
            accepted.append(Accepted(change: change, superseded: superseded))
            results[index] = PushResult(number: change.number, outcome: .accepted)
        }

        let redactions = try await redact(&accepted)
        // Nothing is written before the positions are taken (oxp_take_positions).
        let positions = try await takePositions(accepted.count)
        try await record(claim)
        try await append(accepted, at: positions, superseding: supersede)
        try await blankLoggedText(of: redactions)
        try await recordPushedCustomers(Set(accepted.map(\.change.customer.rawValue)).subtracting(knownBefore))
        try await store(scopeTags, of: scopes, movedBy: scopeChanges)
        try await storeRefusals(newRefusals)
        let through = try await advanceProgress()
        return PushResponse(results: results.map { $0! }, acknowledgedThrough: through)
    }

    // MARK: Reading the state a push is judged on

    /// Waits for the pushes of the same replica or of the same customers that are in flight,
    /// and for an erasure in flight; no write.
    private func lock(customers: [String]) async throws {
        try await connection.run("SELECT pg_advisory_xact_lock_shared(\(PostgresSchema.appendLock))")
        let keys = ["r:" + request.replica.rawValue] + customers.map { "c:" + $0 }
        try await connection.run(
            """
            SELECT pg_advisory_xact_lock(\(PostgresSchema.pushLockSpace), k)
            FROM (SELECT DISTINCT hashtext(key) AS k FROM unnest(\(keys)::text[]) AS key ORDER BY 1) AS ordered
            """)
    }

    /// A replica id belongs to the token of its first push (``PushRules/claim(_:owner:ownerValid:by:)``):
    /// what to record, written after the positions are taken (``record(_:)``).
    private func judgeClaim() async throws -> PushRules.Claim {
        let replica = request.replica.rawValue
        let now = PushRules.receivedAt(policy).description
        let owner = try await connection.one("SELECT token_id FROM replica_owner WHERE replica = \(replica)", as: String.self)
        var ownerValid = owner?.hasPrefix("jwt:") ?? false
        if let owner, !ownerValid {
            ownerValid =
                try await connection.one(
                    """
                    SELECT 1::bigint FROM device_token WHERE id = \(owner) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > \(now))
                    """, as: Int64.self) != nil
        }
        return try PushRules.claim(request.replica, owner: owner, ownerValid: ownerValid, by: device)
    }

    private func record(_ claim: PushRules.Claim) async throws {
        let replica = request.replica.rawValue
        let now = PushRules.receivedAt(policy).description
        switch claim {
        case .owned: return
        case .first:
            try await connection.run("INSERT INTO replica_owner (replica, token_id, since) VALUES (\(replica), \(device.tokenID), \(now))")
        case .moved:
            try await connection.run("UPDATE replica_owner SET token_id = \(device.tokenID), since = \(now) WHERE replica = \(replica)")
        }
    }

    /// The stored bodies of the changes already in the log (opened).
    private func loggedKeys(of changes: [Change]) async throws -> [Key: String] {
        var found: [(key: Key, customer: String, body: String)] = []
        let rows = try await connection.query(
            """
            SELECT l.replica, l.number, l.customer, l.body FROM change_log l
            JOIN unnest(\(changes.map(\.replica.rawValue))::text[], \(changes.map(\.number))::bigint[]) AS t(replica, number)
              ON l.replica = t.replica AND l.number = t.number
            """, logger: connection.logger)
        for try await (replica, number, customer, body) in rows.decode((String, Int64, String, String).self) {
            found.append((Key(replica, number), customer, body))
        }
        var keys: [Key: String] = [:]
        for (row, body) in zip(found, try await bodies.opened(found.map { ($0.customer, $0.body) })) { keys[row.key] = body }
        return keys
    }

    private func storedRefusals(of changes: [Change]) async throws -> [Key: (ErrorCode, String)] {
        var refusals: [Key: (ErrorCode, String)] = [:]
        let rows = try await connection.query(
            """
            SELECT r.replica, r.number, r.reason, r.message FROM push_refusal r
            JOIN unnest(\(changes.map(\.replica.rawValue))::text[], \(changes.map(\.number))::bigint[]) AS t(replica, number)
              ON r.replica = t.replica AND r.number = t.number
            """, logger: connection.logger)
        for try await (replica, number, reason, message) in rows.decode((String, Int64, String, String).self) {
            refusals[Key(replica, number)] = (ErrorCode(unchecked: reason), message)
        }
        return refusals
    }

    /// Of the erased `customers`, those the pushing token saw: it wrote changes of them, or a store
    /// of it holds them or was sent them (``PushRules/CustomerStanding/erased(seenByDevice:)``).
    private func seen(_ customers: [String]) async throws -> Set<String> {
        guard !customers.isEmpty else { return [] }
        let token = device.tokenID
        return try await texts(
            """
            SELECT customer FROM audit_event WHERE customer = ANY(\(customers)) AND actor = \(token) AND action = 'change'
            UNION SELECT h.customer FROM holding h JOIN subscription s ON s.id = h.subscription
                WHERE s.token_id = \(token) AND h.customer = ANY(\(customers))
            UNION SELECT p.customer FROM pending_holding p JOIN subscription s ON s.id = p.subscription
                WHERE s.token_id = \(token) AND p.held AND p.customer = ANY(\(customers))
            """)
    }

    private func texts(_ query: PostgresQuery) async throws -> Set<String> {
        var values = Set<String>()
        for try await value in try await connection.query(query, logger: connection.logger).decode(String.self) { values.insert(value) }
        return values
    }

    /// Each customer's scopes as an add-wins set, from its stored adds and removes.
    private func customerScopes(of customers: [String]) async throws -> [String: AddWinsSet] {
        var sets: [String: AddWinsSet] = [:]
        let rows = try await connection.query(
            "SELECT customer, element, tag, removed_hlc FROM customer_scope WHERE customer = ANY(\(customers))", logger: connection.logger)
        for try await (customer, element, tag, removed) in rows.decode((String, String, String, String?).self) {
            let stamp = try HybridTimestamp(parsing: tag)
            sets[customer, default: AddWinsSet()].restore(element, tag: stamp, removed: try removed.map { try HybridTimestamp(parsing: $0) })
        }
        return sets
    }

    private func liveRegisters(of customers: [String]) async throws -> [String: [LiveRegister]] {
        var live: [String: [LiveRegister]] = [:]
        let rows = try await connection.query(
            """
            SELECT position, customer, field, hlc FROM change_log
            WHERE customer = ANY(\(customers)) AND kind = 'register' AND entity = 'profile' AND NOT superseded
            """, logger: connection.logger)
        for try await (position, customer, field, hlc) in rows.decode((Int64, String, String, String).self) {
            live[customer + "\u{1F}" + field, default: []].append(LiveRegister(position: position, index: nil, hlc: hlc))
        }
        return live
    }

    // MARK: Redactions

    /// Stores accepted notes and revisions of redacted notes (redacted before, or in this
    /// push) without their text (``RedactionRules``); returns the notes this push redacts,
    /// by customer.
    private func redact(_ accepted: inout [Accepted]) async throws -> [String: Set<String>] {
        var redactions: [String: Set<String>] = [:]
        for item in accepted {
            if let note = RedactionRules.note(redactedBy: item.change) { redactions[item.change.customer.rawValue, default: []].insert(note) }
        }
        let carryingText = accepted.indices.filter { RedactionRules.withoutText(accepted[$0].change) != nil }
        guard !carryingText.isEmpty else { return redactions }
        let customers = Array(Set(carryingText.map { accepted[$0].change.customer.rawValue }))
        let logged = try await loggedBodies(
            "SELECT position, customer, body FROM change_log WHERE customer = ANY(\(customers)) AND entity = 'note_redaction'")
        let redacted = Set(redactions.values.joined()).union(try RedactionRules.notes(redactedIn: logged.map(\.body)))
        for index in carryingText {
            let change = accepted[index].change
            if let note = RedactionRules.note(whoseTextIsIn: change), redacted.contains(note), let blanked = RedactionRules.withoutText(change) {
                accepted[index].change = blanked
            }
        }
        return redactions
    }

    /// Removes the text of the redacted notes' changes logged before this push.
    private func blankLoggedText(of redactions: [String: Set<String>]) async throws {
        guard !redactions.isEmpty else { return }
        let logged = try await loggedBodies(
            "SELECT position, customer, body FROM change_log WHERE customer = ANY(\(Array(redactions.keys))) AND entity IN ('note', 'note_revision')")
        let blanked = try RedactionRules.blankedBodies(logged.map { ($0.position, $0.body) }, of: Set(redactions.values.joined()))
        let customers = Dictionary(logged.map { ($0.position, $0.customer) }) { first, _ in first }
        let sealed = try await bodies.sealed(blanked.map { (customers[$0.position] ?? "", $0.body) })
        try await connection.storeBodies(zip(blanked, sealed).map { ($0.position, $1) })
    }

    /// Logged changes `query` selects as (position, customer, body), their bodies opened
    /// (those of customers erased meanwhile left out).
    private func loggedBodies(_ query: PostgresQuery) async throws -> [(position: Int64, customer: String, body: String)] {
        var rows: [(position: Int64, customer: String, body: String)] = []
        for try await row in try await connection.query(query, logger: connection.logger).decode((Int64, String, String).self) { rows.append(row) }
        let opened = try await bodies.opened(rows.map { ($0.customer, $0.body) })
        return zip(rows, opened).compactMap { row, body in body.map { (row.position, row.customer, $0) } }
    }

    // MARK: Writing

    /// `count` new log positions, in order, with the transaction's id (the push's first write):
    /// nothing in flight is below them once they are stable (``PostgresSchema/stable``).
    private func takePositions(_ count: Int) async throws -> [Int64] {
        guard count > 0 else { return [] }
        var positions: [Int64] = []
        let numbered = try await connection.query("SELECT oxp_take_positions(\(Int32(count)))", logger: connection.logger)
        for try await position in numbered.decode(Int64.self) { positions.append(position) }
        return positions.sorted()
    }

    /// Appends the accepted changes at `positions`, in order, and what goes with them.
    private func append(_ accepted: [Accepted], at positions: [Int64], superseding supersede: [Int64]) async throws {
        if !supersede.isEmpty {
            try await connection.run("UPDATE change_log SET superseded = true WHERE position = ANY(\(supersede))")
        }
        guard !accepted.isEmpty else { return }
        let changes = accepted.map(\.change)
        let receivedAt = PushRules.receivedAt(policy).description
        let codec = WireCodec()
        let kept = try await bodies.sealed(changes.map { ($0.customer.rawValue, codec.encodeText($0)) })
        try await connection.run(
            """
            INSERT INTO change_log (position, replica, number, hlc, customer, entity, field, kind, body, superseded, device, received_at)
            SELECT u.position, u.replica, u.number, u.hlc, u.customer, u.entity, NULLIF(u.field, ''), u.kind, u.body, u.superseded,
                   \(device.tokenID), \(receivedAt)
            FROM unnest(\(positions)::bigint[], \(changes.map(\.replica.rawValue))::text[], \(changes.map(\.number))::bigint[],
                        \(changes.map(\.hlc.description))::text[], \(changes.map(\.customer.rawValue))::text[],
                        \(changes.map(\.entity.rawValue))::text[], \(changes.map { $0.field ?? "" })::text[],
                        \(changes.map(\.kind.rawValue))::text[], \(kept)::text[],
                        \(accepted.map(\.superseded))::boolean[])
                 AS u(position, replica, number, hlc, customer, entity, field, kind, body, superseded)
            """)
        try await connection.run(
            "INSERT INTO known_customer (customer) SELECT DISTINCT unnest(\(changes.map(\.customer.rawValue))::text[]) ON CONFLICT DO NOTHING")
        try await PostgresAudit.recordChanges(changes, by: device, at: receivedAt, on: connection)
    }

    /// Records that the pushing store created `customers`: it holds them from then on,
    /// though no pull answer said so (``PostgresSubscriptions/adoptPushedCustomers(of:into:)``).
    private func recordPushedCustomers(_ customers: Set<String>) async throws {
        guard !customers.isEmpty else { return }
        try await connection.run(
            """
            INSERT INTO pushed_customer (replica, customer, recorded_at)
            SELECT \(request.replica.rawValue), unnest(\(Array(customers))::text[]), \(PushRules.receivedAt(policy).description)
            ON CONFLICT DO NOTHING
            """)
    }

    /// A tag of a customer's scopes set.
    private struct ScopeTag {
        let customer: String
        let element: String
        let tag: HybridTimestamp
    }

    /// Writes the scope tags the push changed into `customer_scope`, as the merged sets hold them.
    private func store(_ tags: [ScopeTag], of scopes: [String: AddWinsSet], movedBy scopeChanges: [Change]) async throws {
        guard !scopeChanges.isEmpty else { return }
        for key in tags {
            let removed = scopes[key.customer]?.removal(of: key.element, tag: key.tag)?.description
            try await connection.run(
                """
                INSERT INTO customer_scope (customer, element, tag, removed_hlc) VALUES (\(key.customer), \(key.element), \(key.tag.description), \(removed))
                ON CONFLICT (customer, element, tag) DO UPDATE SET removed_hlc = excluded.removed_hlc
                """)
        }
        // Who sees these customers may have changed.
        try await PostgresSubscriptions.bumpEpoch(for: Array(Set(scopeChanges.map(\.customer.rawValue))), on: connection)
    }

    private func storeRefusals(_ refusals: [(Change, ErrorCode, String)]) async throws {
        guard !refusals.isEmpty else { return }
        try await connection.run(
            """
            INSERT INTO push_refusal (replica, number, reason, message)
            SELECT * FROM unnest(\(refusals.map(\.0.replica.rawValue))::text[], \(refusals.map(\.0.number))::bigint[],
                                 \(refusals.map(\.1.rawValue))::text[], \(refusals.map(\.2))::text[])
            ON CONFLICT DO NOTHING
            """)
    }

    /// The highest N such that changes 1…N of the pushing replica are all stored or refused for good.
    private func advanceProgress() async throws -> Int64 {
        let replica = request.replica.rawValue
        return try await connection.one(
            """
            WITH RECURSIVE start AS (
                SELECT coalesce((SELECT acknowledged_through FROM replica_progress WHERE replica = \(replica)), 0) AS n
            ), walk(n) AS (
                SELECT n FROM start
                UNION ALL
                SELECT walk.n + 1 FROM walk
                WHERE EXISTS (SELECT 1 FROM change_log WHERE replica = \(replica) AND number = walk.n + 1)
                   OR EXISTS (SELECT 1 FROM push_refusal WHERE replica = \(replica) AND number = walk.n + 1)
            )
            INSERT INTO replica_progress (replica, acknowledged_through) SELECT \(replica), max(n) FROM walk
            ON CONFLICT (replica) DO UPDATE SET acknowledged_through = excluded.acknowledged_through
            RETURNING acknowledged_through
            """, as: Int64.self) ?? 0
    }
}

extension PostgresConnection {
    /// Writes back logged changes a redaction rewrote (``RedactionRules/blankedBodies(_:of:)``), in one statement.
    func storeBodies(_ bodies: [(position: Int64, body: String)]) async throws {
        guard !bodies.isEmpty else { return }
        try await run(
            """
            UPDATE change_log SET body = u.body
            FROM unnest(\(bodies.map(\.position))::bigint[], \(bodies.map(\.body))::text[]) AS u(position, body)
            WHERE change_log.position = u.position
            """)
    }
}
