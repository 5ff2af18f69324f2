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
        // Our own changes come back too, and are applied like any other (merging is
        // idempotent): after a purge, a customer that comes back brings this store's
        // own earlier changes with it.
        var page = try RemoteBatch(changes, alsoReading: [], writer: self)
        var outcomes: [ApplyOutcome] = []
        outcomes.reserveCapacity(changes.count)
        for index in changes.indices { outcomes.append(page.merge(at: index)) }
        try page.store()
        return outcomes
    }

    /// Writes what a merge changed: rows are inserted or replaced, never judged.
    func store(_ delta: StateDelta, of state: CustomerState, touchedNotes: inout [String]) throws {
        let customer = state.customer.rawValue
        if delta.erased, let erasure = state.erasure {
            try purgeErased(state.customer, stamp: erasure)
            return
        }
        guard !delta.isEmpty else {
            if state.isPresent { knownCustomers.insert(customer) }
            return
        }
        if let created = delta.created {
            try run(.insertCustomer, .text(customer), .text(created.description), .text(created.replica.rawValue))
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
            let removed = state.sets[key.field]?.removal(of: key.element, tag: key.tag)
            try run(.storeSetTag, .text(customer), .text(key.field), .text(key.element), .text(key.tag.description), HotArgument(removed?.description))
        }
        for id in delta.notes {
            guard let note = state.notes[id] else { continue }
            try run(
                .insertNote, .text(id), .text(customer), .text(note.author), .text(note.channel), .text(note.at), HotArgument(note.sentiment),
                HotArgument(note.followUp), .text(note.hlc.description), .text(note.hlc.replica.rawValue))
            touchedNotes.append(id)
        }
        for id in delta.revisions {
            guard let revision = state.revisions[id] else { continue }
            try run(
                .insertRevision, .text(id), .text(revision.note), .text(customer), HotArgument(revision.text), .text(revision.author),
                .text(revision.at), .text(revision.hlc.description), .text(revision.hlc.replica.rawValue))
            touchedNotes.append(revision.note)
        }
        for note in delta.redactions {
            guard let redaction = state.redactions[note] else { continue }
            try run(
                .storeRedaction, .text(note), .text(customer), .text(redaction.by), .text(redaction.at), HotArgument(redaction.reason),
                .text(redaction.hlc.description), .text(redaction.hlc.replica.rawValue))
            try forgetText(of: RecordID(unchecked: note))
        }
        for id in delta.consents {
            guard let consent = state.consents[id] else { continue }
            try run(
                .insertConsent, .text(id), .text(customer), .text(consent.purpose), .text(consent.status), .text(consent.source), .text(consent.at),
                .text(GuardedWrites.text(of: consent.observed)), .text(consent.hlc.description), .text(consent.hlc.replica.rawValue))
        }
        for id in delta.lifeEvents {
            guard let event = state.lifeEvents[id] else { continue }
            try run(
                .insertLifeEvent, .text(id), .text(customer), .text(event.type), .text(event.date), .text(event.source), .integer(event.confidence),
                HotArgument(event.detail), .text(event.hlc.description), .text(event.hlc.replica.rawValue))
        }
        for id in delta.contacts {
            guard let contact = state.contacts[id] else { continue }
            try run(
                .insertContact, .text(id), .text(customer), .text(contact.channel), .text(contact.purpose), .text(contact.topic), .text(contact.at),
                .text(contact.outcome), .text(contact.hlc.description), .text(contact.hlc.replica.rawValue))
        }
    }
}
