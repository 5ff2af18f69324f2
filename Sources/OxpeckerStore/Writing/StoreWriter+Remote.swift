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
            guard change.hlc.replica == change.replica else { return .rejected("the hlc's replica is not the change's") }
            observe(change.hlc)
            if change.kind == .erasure || change.entity == .customer {
                guard change.kind == .erasure, change.entity == .customer else {
                    return .rejected("erasure is a change of the customer entity")
                }
                return try erase(change.customer, stamp: change.hlc)
            }
            if try isErased(change.customer) { return .unchanged }  // absorbing: nothing comes back
            // Every branch of applyValidated validates before it writes, so a rejected change
            // leaves no trace by itself. Only a new customer's row is written first: that
            // change runs in a savepoint, which a rejection rolls back with the row.
            guard !knownCustomers.contains(change.customer.rawValue) else { return try rejectingInvalid { try applyValidated(change) } }
            var outcome = ApplyOutcome.unchanged
            try db.inSavepoint {
                try db.cachedStatement(sql: "INSERT OR IGNORE INTO customer (id, hlc, replica) VALUES (?, ?, ?)")
                    .execute(arguments: [change.customer.rawValue, change.hlc.description, change.replica.rawValue])
                outcome = try rejectingInvalid { try applyValidated(change) }
                if case .rejected = outcome { return .rollback }
                return .commit
            }
            // Known only once committed: a rolled-back savepoint took its customer row with it.
            if case .rejected = outcome {} else { knownCustomers.insert(change.customer.rawValue) }
            return outcome
        }
    }

    /// `body`'s outcome, or `.rejected` with the reason when the change is invalid.
    private func rejectingInvalid(_ body: () throws -> ApplyOutcome) throws -> ApplyOutcome {
        do {
            return try body()
        } catch let error as StoreError {
            return .rejected(error.description)
        } catch let error as ProtocolError {
            return .rejected(error.description)
        }
    }

    private func applyValidated(_ change: Change) throws -> ApplyOutcome {
        let record = RemoteRecord(change)
        switch change.entity {
        case .customer:
            return .rejected("unexpected customer change")
        case .profile:
            return try applyProfile(change)
        case .note:
            let id = try record.id()
            let text = try record.optionalText("text", max: Limits.noteTextCharacters)
            try record.expectKind(.appendOnlyLog)
            let author = try record.text("author")
            let at = try record.instant("at")
            let channel = try record.text("channel")
            let sentiment = try record.optionalText("sentiment")
            let followUp = try record.optionalDate("follow_up")
            try execute(
                "INSERT OR IGNORE INTO note (id, customer_id, author, channel, at, sentiment, follow_up, hlc, replica) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [id, change.customer.rawValue, author, channel, at, sentiment, followUp, change.hlc.description, change.replica.rawValue])
            let inserted = db.changesCount > 0
            try insertRemoteRevision(id: id, note: id, change: change, text: text, author: author, at: at)
            try SearchIndex.reindexNote(RecordID(unchecked: id), in: db)
            return inserted ? .applied : .unchanged
        case .noteRevision:
            try record.expectKind(.appendOnlyLog)
            let id = try record.id()
            let note = try record.identifier("note")
            let inserted = try insertRemoteRevision(
                id: id, note: note, change: change, text: try record.optionalText("text", max: Limits.noteTextCharacters),
                author: try record.text("author"), at: try record.instant("at"))
            try SearchIndex.reindexNote(RecordID(unchecked: note), in: db)
            return inserted ? .applied : .unchanged
        case .noteRedaction:
            try record.expectKind(.appendOnlyLog)
            let note = try record.id()
            // Two redactions of one note made concurrently: the earliest is kept, whatever the arrival order.
            try execute(
                """
                INSERT INTO note_redaction (note_id, customer_id, redacted_by, at, reason, hlc, replica) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (note_id) DO UPDATE SET
                    redacted_by = excluded.redacted_by, at = excluded.at, reason = excluded.reason, hlc = excluded.hlc, replica = excluded.replica
                WHERE excluded.hlc < note_redaction.hlc
                """,
                [note, change.customer.rawValue, try record.text("by"), try record.instant("at"), try record.optionalText("reason"),
                 change.hlc.description, change.replica.rawValue])
            guard db.changesCount > 0 else { return .unchanged }
            try execute("UPDATE note_revision SET text = NULL WHERE note_id = ?", [note])
            try SearchIndex.reindexNote(RecordID(unchecked: note), in: db)
            return .applied
        case .consent:
            try record.expectKind(.consent)
            guard let purpose = change.field, !purpose.isEmpty else { return .rejected("a consent change names its purpose in field") }
            try execute(
                "INSERT OR IGNORE INTO consent_event (id, customer_id, purpose, status, source, at, observed, hlc, replica) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [try record.id(), change.customer.rawValue, purpose, try record.text("status"), try record.text("source"),
                 try record.instant("at"), JSONValue.array(change.observed.map { .string($0.description) }).canonicalText,
                 change.hlc.description, change.replica.rawValue])
            return db.changesCount > 0 ? .applied : .unchanged
        case .lifeEvent:
            try record.expectKind(.appendOnlyLog)
            let confidence = try record.integer("confidence", in: 0...100)
            try execute(
                "INSERT OR IGNORE INTO life_event (id, customer_id, type, date, source, confidence, detail, hlc, replica) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [try record.id(), change.customer.rawValue, try record.text("type"), try record.date("date"), try record.text("source"),
                 confidence, try record.optionalText("detail", max: Limits.noteTextCharacters), change.hlc.description,
                 change.replica.rawValue])
            return db.changesCount > 0 ? .applied : .unchanged
        case .contact:
            try record.expectKind(.appendOnlyLog)
            try execute(
                "INSERT OR IGNORE INTO contact (id, customer_id, channel, purpose, topic, at, outcome, hlc, replica) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [try record.id(), change.customer.rawValue, try record.text("channel"), try record.text("purpose"), try record.text("topic"),
                 try record.instant("at"), try record.text("outcome"), change.hlc.description, change.replica.rawValue])
            return db.changesCount > 0 ? .applied : .unchanged
        }
    }

    private func applyProfile(_ change: Change) throws -> ApplyOutcome {
        guard let name = change.field, let field = FieldCatalog.descriptor(named: name) else {
            return .rejected("unknown profile field '\(change.field ?? "")'")
        }
        guard change.kind == field.kind else {
            return .rejected("field '\(name)' merges as \(field.kind.rawValue), not \(change.kind.rawValue)")
        }
        switch field.kind {
        case .register:
            try field.type.validate(change.value, field: name)
            let current = try String.fetchOne(
                db.cachedStatement(sql: "SELECT hlc FROM field_value WHERE customer_id = ? AND field = ?"),
                arguments: [change.customer.rawValue, name])
            if let current, try HybridTimestamp(parsing: current) >= change.hlc { return .unchanged }
            try storeField(name, value: change.value, stamp: change.hlc, of: change.customer)
        case .guardedRegister:
            try field.type.validate(change.value, field: name)
            try GuardedWrites.insert(CausalWrite(hlc: change.hlc, value: change.value, observed: change.observed), of: change.customer, field: name, in: db)
            guard db.changesCount > 0 else { return .unchanged }
            // The shown value is the latest write no other write supersedes.
            if let latest = try GuardedWrites.register(of: change.customer, field: name, in: db).latest {
                try storeField(name, value: latest.value, stamp: latest.hlc, of: change.customer)
            }
        case .addWinsSet:
            guard let element = change.value["element"]?.stringValue, let op = change.value["op"]?.stringValue else {
                return .rejected("a set change carries {\"element\": …, \"op\": \"add\" | \"remove\"}")
            }
            try field.type.validate(.string(element), field: name)
            switch op {
            case "add":
                try execute(
                    "INSERT OR IGNORE INTO set_element (customer_id, field, element, tag) VALUES (?, ?, ?, ?)",
                    [change.customer.rawValue, name, element, change.hlc.description])
                return db.changesCount > 0 ? .applied : .unchanged
            case "remove":
                var changed = false
                for tag in change.observed {
                    // The removal is remembered even for an add not seen yet; of two removals the earliest stamp is kept.
                    try execute(
                        """
                        INSERT INTO set_element (customer_id, field, element, tag, removed_hlc) VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT DO UPDATE SET removed_hlc = min(coalesce(removed_hlc, excluded.removed_hlc), excluded.removed_hlc)
                        WHERE removed_hlc IS NULL OR removed_hlc > excluded.removed_hlc
                        """,
                        [change.customer.rawValue, name, element, tag.description, change.hlc.description])
                    changed = changed || db.changesCount > 0
                }
                return changed ? .applied : .unchanged
            default:
                return .rejected("unknown set operation '\(op)'")
            }
        default:
            return .rejected("field '\(name)' has merge kind \(field.kind.rawValue)")
        }
        if SearchIndex.nameFields.contains(name) { nameChanged(of: change.customer) }
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

/// Reads and validates the members of a remote record change's value.
struct RemoteRecord {
    let change: Change

    init(_ change: Change) { self.change = change }

    func fail(_ reason: String) -> StoreError {
        .invalidValue(field: "\(change.entity.rawValue) change \(change.replica)#\(change.number)", reason: reason)
    }

    func expectKind(_ kind: MergeKind) throws {
        guard change.kind == kind else { throw fail("merges as \(kind.rawValue), not \(change.kind.rawValue)") }
    }

    func id() throws -> String {
        guard let record = change.record else { throw fail("missing record id") }
        return record.rawValue
    }

    func optionalText(_ key: String, max: Int = Limits.shortTextCharacters) throws -> String? {
        guard let value = change.value[key], !value.isNull else { return nil }
        guard let text = value.stringValue, text.unicodeScalars.count <= max else { throw fail("\(key) must be text of at most \(max) characters") }
        return text
    }

    func text(_ key: String) throws -> String {
        guard let text = try optionalText(key), !text.isEmpty else { throw fail("missing \(key)") }
        return text
    }

    func identifier(_ key: String) throws -> String {
        let text = try text(key)
        guard IdentifierRule.accepts(text) else { throw fail("\(key) is not a valid id") }
        return text
    }

    func instant(_ key: String) throws -> String {
        try Instant(parsing: text(key)).description
    }

    func date(_ key: String) throws -> String {
        try LocalDate(parsing: text(key)).description
    }

    func optionalDate(_ key: String) throws -> String? {
        try optionalText(key).map { try LocalDate(parsing: $0).description }
    }

    func integer(_ key: String, in range: ClosedRange<Int64>) throws -> Int64 {
        guard let number = change.value[key]?.integerValue, range.contains(number) else {
            throw fail("\(key) must be an integer in \(range)")
        }
        return number
    }
}
