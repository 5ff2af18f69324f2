import GRDB
import OxpeckerProtocol

extension StoreWriter {
    /// Merges changes received from the server into this store, by the merge rule
    /// of each, in this transaction (this store's own changes, echoed back, change nothing
    /// unless the customer was purged since). Applying the same changes again, or in any
    /// order, gives the same state; a local change not yet pushed is only ever
    /// replaced by a later one. Changes are not added to the outbox.
    ///
    /// The batch is merged by customer: the state it touches is read with one
    /// query per table (``StateSlices``), merged in memory by ``CustomerState``
    /// (the merge rules, which SQL never decides), and only what changed is
    /// written. Returns one outcome per change, in order.
    public func apply(_ changes: [Change]) throws -> [ApplyOutcome] {
        var outcomes = [ApplyOutcome](repeating: .unchanged, count: changes.count)
        var batches: [String: [(index: Int, validated: ValidatedChange)]] = [:]
        var keys = StateKeys()
        for (index, change) in changes.enumerated() {
            // Our own changes come back too, and are applied like any other (merging is
            // idempotent): after a purge, a customer that comes back brings this store's
            // own earlier changes with it.
            switch ValidatedChange.check(change) {
            case .failure(let rejection):
                outcomes[index] = .rejected(rejection.reason)
            case .success(let validated):
                observe(change.hlc)
                keys.add(validated, of: change.customer)
                batches[change.customer.rawValue, default: []].append((index, validated))
            }
        }
        guard !keys.customers.isEmpty else { return outcomes }
        var states = try StateSlices.load(keys, in: db)
        var touchedNotes: [String] = []
        for customer in keys.customers {
            guard var state = states.removeValue(forKey: customer.rawValue), let batch = batches[customer.rawValue] else { continue }
            var delta = StateDelta()
            for (index, validated) in batch {
                outcomes[index] = state.merge(changes[index], as: validated, into: &delta)
            }
            try store(delta, of: state, touchedNotes: &touchedNotes)
        }
        // Each note's search document once for the batch, from its latest text.
        for note in Set(touchedNotes).sorted() { try SearchIndex.reindexNote(RecordID(unchecked: note), in: db) }
        return outcomes
    }

    /// Writes what a merge changed: rows are inserted or replaced, never judged.
    private func store(_ delta: StateDelta, of state: CustomerState, touchedNotes: inout [String]) throws {
        let customer = state.customer.rawValue
        if delta.erased, let erasure = state.erasure {
            try purgeErased(state.customer, stamp: erasure)
            return
        }
        guard !delta.isEmpty else {
            if state.presence != nil { knownCustomers.insert(customer) }
            return
        }
        if delta.created, let presence = state.presence {
            try execute("INSERT OR IGNORE INTO customer (id, hlc, replica) VALUES (?, ?, ?)", [customer, presence.description, presence.replica.rawValue])
        }
        knownCustomers.insert(customer)
        for field in delta.registers {
            guard let shown = state.registers[field] else { continue }
            try storeField(field, value: shown.value, stamp: shown.hlc, of: state.customer)
            if SearchIndex.nameFields.contains(field) { nameChanged(of: state.customer) }
        }
        for (field, write) in delta.guardedWrites {
            try GuardedWrites.insert(write, of: state.customer, field: field, in: db)
        }
        for key in delta.setTags {
            let removed = state.sets[key.field]?.tags[key.element]?[key.tag]?.removed
            try execute(
                """
                INSERT INTO set_element (customer_id, field, element, tag, removed_hlc) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT DO UPDATE SET removed_hlc = excluded.removed_hlc
                """,
                [customer, key.field, key.element, key.tag.description, removed?.description])
        }
        for id in delta.notes {
            guard let note = state.notes[id] else { continue }
            try execute(
                "INSERT OR IGNORE INTO note (id, customer_id, author, channel, at, sentiment, follow_up, hlc, replica) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [id, customer, note.author, note.channel, note.at, note.sentiment, note.followUp, note.hlc.description, note.hlc.replica.rawValue])
            touchedNotes.append(id)
        }
        for id in delta.revisions {
            guard let revision = state.revisions[id] else { continue }
            try execute(
                "INSERT OR IGNORE INTO note_revision (id, note_id, customer_id, text, author, at, hlc, replica) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [id, revision.note, customer, revision.text, revision.author, revision.at, revision.hlc.description, revision.hlc.replica.rawValue])
            touchedNotes.append(revision.note)
        }
        for note in delta.redactions {
            guard let redaction = state.redactions[note] else { continue }
            try execute(
                """
                INSERT INTO note_redaction (note_id, customer_id, redacted_by, at, reason, hlc, replica) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (note_id) DO UPDATE SET
                    redacted_by = excluded.redacted_by, at = excluded.at, reason = excluded.reason, hlc = excluded.hlc, replica = excluded.replica
                """,
                [note, customer, redaction.by, redaction.at, redaction.reason, redaction.hlc.description, redaction.hlc.replica.rawValue])
            try forgetText(of: RecordID(unchecked: note))
        }
        for id in delta.consents {
            guard let consent = state.consents[id] else { continue }
            try execute(
                "INSERT OR IGNORE INTO consent_event (id, customer_id, purpose, status, source, at, observed, hlc, replica) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [id, customer, consent.purpose, consent.status, consent.source, consent.at,
                 JSONValue.array(consent.observed.map { .string($0.description) }).canonicalText, consent.hlc.description,
                 consent.hlc.replica.rawValue])
        }
        for id in delta.lifeEvents {
            guard let event = state.lifeEvents[id] else { continue }
            try execute(
                "INSERT OR IGNORE INTO life_event (id, customer_id, type, date, source, confidence, detail, hlc, replica) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [id, customer, event.type, event.date, event.source, event.confidence, event.detail, event.hlc.description, event.hlc.replica.rawValue])
        }
        for id in delta.contacts {
            guard let contact = state.contacts[id] else { continue }
            try execute(
                "INSERT OR IGNORE INTO contact (id, customer_id, channel, purpose, topic, at, outcome, hlc, replica) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [id, customer, contact.channel, contact.purpose, contact.topic, contact.at, contact.outcome, contact.hlc.description,
                 contact.hlc.replica.rawValue])
        }
    }

    private func execute(_ sql: String, _ arguments: [(any DatabaseValueConvertible)?]) throws {
        try db.cachedStatement(sql: sql).execute(arguments: StatementArguments(arguments))
    }
}
