import GRDB
import OxpeckerProtocol

/// What applying one remote change did.
public enum ApplyOutcome: Sendable, Hashable {
    /// The change was new and is now part of the state.
    case applied
    /// The change was known already, older than the state, or about an erased
    /// customer: the state is as it was (this is how duplicates and reordered
    /// deliveries become harmless).
    case unchanged
    /// The change is invalid or of a kind this build does not know; the reason says which.
    case rejected(String)
}

extension StoreWriter {
    /// Merges changes received from the server into this store, by the merge rule
    /// of each, in this transaction (this store's own changes, echoed back, change nothing
    /// unless the customer was purged since). Applying the same changes again, or in any
    /// order, gives the same state; a local change not yet pushed is only ever
    /// replaced by a later one. Changes are not added to the outbox.
    ///
    /// Returns one outcome per change, in order.
    public func apply(_ changes: [Change]) throws -> [ApplyOutcome] {
        try changes.map { change in
            // Our own changes come back too, and are applied like any other (merging is
            // idempotent): after a purge, a customer that comes back brings this store's
            // own earlier changes with it.
            let validated: ValidatedChange
            switch ValidatedChange.check(change) {
            case .failure(let rejection): return .rejected(rejection.reason)
            case .success(let checked): validated = checked
            }
            observe(change.hlc)
            if validated == .erasure { return try erase(change.customer, stamp: change.hlc) }
            // The change is valid (checked above, before anything is written): its customer's row, then its merge.
            // A customer this transaction knows has its row, so it is not erased (an erasure deletes the row and forgets it).
            if !knownCustomers.contains(change.customer.rawValue) {
                if try isErased(change.customer) { return .unchanged }  // absorbing: nothing comes back
                try db.cachedStatement(sql: "INSERT OR IGNORE INTO customer (id, hlc, replica) VALUES (?, ?, ?)")
                    .execute(arguments: [change.customer.rawValue, change.hlc.description, change.replica.rawValue])
                knownCustomers.insert(change.customer.rawValue)
            }
            return try merge(validated, of: change)
        }
    }

    /// Writes a checked change by its merge rule.
    private func merge(_ validated: ValidatedChange, of change: Change) throws -> ApplyOutcome {
        let customer = change.customer.rawValue
        let hlc = change.hlc.description
        switch validated {
        case .erasure:
            return .rejected("unexpected customer change")
        case .note(let id, let text, let author, let at, let channel, let sentiment, let followUp):
            try execute(
                "INSERT OR IGNORE INTO note (id, customer_id, author, channel, at, sentiment, follow_up, hlc, replica) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [id, customer, author, channel, at, sentiment, followUp, hlc, change.replica.rawValue])
            let inserted = db.changesCount > 0
            try insertRemoteRevision(id: id, note: id, change: change, text: text, author: author, at: at)
            try SearchIndex.reindexNote(RecordID(unchecked: id), in: db)
            return inserted ? .applied : .unchanged
        case .noteRevision(let id, let note, let text, let author, let at):
            let inserted = try insertRemoteRevision(id: id, note: note, change: change, text: text, author: author, at: at)
            try SearchIndex.reindexNote(RecordID(unchecked: note), in: db)
            return inserted ? .applied : .unchanged
        case .noteRedaction(let note, let by, let at, let reason):
            // Two redactions of one note made concurrently: the earliest is kept, whatever the arrival order.
            try execute(
                """
                INSERT INTO note_redaction (note_id, customer_id, redacted_by, at, reason, hlc, replica) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (note_id) DO UPDATE SET
                    redacted_by = excluded.redacted_by, at = excluded.at, reason = excluded.reason, hlc = excluded.hlc, replica = excluded.replica
                WHERE excluded.hlc < note_redaction.hlc
                """,
                [note, customer, by, at, reason, hlc, change.replica.rawValue])
            guard db.changesCount > 0 else { return .unchanged }
            try forgetText(of: RecordID(unchecked: note))
            return .applied
        case .consent(let id, let purpose, let status, let source, let at):
            try execute(
                "INSERT OR IGNORE INTO consent_event (id, customer_id, purpose, status, source, at, observed, hlc, replica) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [id, customer, purpose, status, source, at, JSONValue.array(change.observed.map { .string($0.description) }).canonicalText,
                 hlc, change.replica.rawValue])
            return db.changesCount > 0 ? .applied : .unchanged
        case .lifeEvent(let id, let type, let date, let source, let confidence, let detail):
            try execute(
                "INSERT OR IGNORE INTO life_event (id, customer_id, type, date, source, confidence, detail, hlc, replica) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [id, customer, type, date, source, confidence, detail, hlc, change.replica.rawValue])
            return db.changesCount > 0 ? .applied : .unchanged
        case .contact(let id, let channel, let purpose, let topic, let at, let outcome):
            try execute(
                "INSERT OR IGNORE INTO contact (id, customer_id, channel, purpose, topic, at, outcome, hlc, replica) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [id, customer, channel, purpose, topic, at, outcome, hlc, change.replica.rawValue])
            return db.changesCount > 0 ? .applied : .unchanged
        case .register(let name):
            let current = try String.fetchOne(
                db.cachedStatement(sql: "SELECT hlc FROM field_value WHERE customer_id = ? AND field = ?"), arguments: [customer, name])
            // The stored form of a stamp orders as the stamp does (fixed width, ASCII): compared as text, never parsed.
            if let current, current >= hlc { return .unchanged }
            try storeField(name, valueText: change.value.canonicalText, stampText: hlc, replica: change.hlc.replica, of: change.customer)
            return profileChanged(name, of: change.customer)
        case .guardedRegister(let name):
            try GuardedWrites.insert(CausalWrite(hlc: change.hlc, value: change.value, observed: change.observed), of: change.customer, field: name, in: db)
            guard db.changesCount > 0 else { return .unchanged }
            // The shown value is the latest write no other write supersedes.
            if let latest = try GuardedWrites.register(of: change.customer, field: name, in: db).latest {
                try storeField(name, value: latest.value, stamp: latest.hlc, of: change.customer)
            }
            return profileChanged(name, of: change.customer)
        case .setAdd(let name, let element):
            try execute("INSERT OR IGNORE INTO set_element (customer_id, field, element, tag) VALUES (?, ?, ?, ?)", [customer, name, element, hlc])
            return db.changesCount > 0 ? .applied : .unchanged
        case .setRemove(let name, let element):
            var changed = false
            for tag in change.observed {
                // The removal is remembered even for an add not seen yet; of two removals the earliest stamp is kept.
                try execute(
                    """
                    INSERT INTO set_element (customer_id, field, element, tag, removed_hlc) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT DO UPDATE SET removed_hlc = min(coalesce(removed_hlc, excluded.removed_hlc), excluded.removed_hlc)
                    WHERE removed_hlc IS NULL OR removed_hlc > excluded.removed_hlc
                    """,
                    [customer, name, element, tag.description, hlc])
                changed = changed || db.changesCount > 0
            }
            return changed ? .applied : .unchanged
        }
    }

    private func profileChanged(_ name: String, of customer: CustomerID) -> ApplyOutcome {
        if SearchIndex.nameFields.contains(name) { nameChanged(of: customer) }
        return .applied
    }

    @discardableResult
    private func insertRemoteRevision(id: String, note: String, change: Change, text: String?, author: String, at: String) throws -> Bool {
        // A revision of a redacted note keeps no text, whichever arrives first.
        let redacted = try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM note_redaction WHERE note_id = ?"), arguments: [note]) ?? false
        try execute(
            "INSERT OR IGNORE INTO note_revision (id, note_id, customer_id, text, author, at, hlc, replica) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [id, note, change.customer.rawValue, redacted ? nil : text, author, at, change.hlc.description, change.replica.rawValue])
        return db.changesCount > 0
    }

    /// Erases a customer: every trace of it goes, unsent changes about it with
    /// it, and a tombstone makes every later change about it a no-op.
    private func erase(_ customer: CustomerID, stamp: HybridTimestamp) throws -> ApplyOutcome {
        guard try !isErased(customer) else { return .unchanged }
        try purgeErased(customer, stamp: stamp)
        return .applied
    }

    private func execute(_ sql: String, _ arguments: [(any DatabaseValueConvertible)?]) throws {
        try db.cachedStatement(sql: sql).execute(arguments: StatementArguments(arguments))
    }
}
