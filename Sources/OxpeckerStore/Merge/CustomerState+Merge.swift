import OxpeckerProtocol

extension CustomerState {
    /// Merges a batch of changes of this customer, in order; returns one outcome
    /// per change and what changed. Invalid changes are rejected (``ValidatedChange``)
    /// and change nothing.
    public mutating func merge(_ changes: [Change]) -> (outcomes: [ApplyOutcome], delta: StateDelta) {
        var delta = StateDelta()
        let outcomes = changes.map { change -> ApplyOutcome in
            switch ValidatedChange.check(change) {
            case .failure(let rejection): return .rejected(rejection.reason)
            case .success(let validated): return merge(change, as: validated, into: &delta)
            }
        }
        return (outcomes, delta)
    }

    /// Merges one checked change of this customer by its rule, recording in
    /// `delta` what it changed. Returns ``ApplyOutcome/unchanged`` for a change
    /// known already, older than the state, or about an erased customer.
    public mutating func merge(_ change: Change, as validated: ValidatedChange, into delta: inout StateDelta) -> ApplyOutcome {
        precondition(change.customer == customer, "a change of \(change.customer) merged into the state of \(customer)")
        guard erasure == nil else { return .unchanged }  // absorbing: nothing comes back
        if case .erasure = validated {
            self = CustomerState(customer: customer)
            erasure = change.hlc
            delta.erase()
            return .applied
        }
        if !isPresent {
            isPresent = true
            delta.created = change.hlc
        }
        return mergeRecord(change, as: validated, into: &delta) ? .applied : .unchanged
    }

    private mutating func mergeRecord(_ change: Change, as validated: ValidatedChange, into delta: inout StateDelta) -> Bool {
        let hlc = change.hlc
        switch validated {
        case .erasure:
            return false  // merged above
        case .register(let field):
            // Of two writes the later stamp wins; stamps never tie across replicas.
            if let current = registers[field], !RegisterRule.wins(hlc, over: current.hlc) { return false }
            registers[field] = StampedValue(value: change.value, hlc: hlc)
            delta.register(field)
            return true
        case .guardedRegister(let field):
            // Every write is kept with what it observed; the shown value is the latest write no other supersedes.
            guard guarded[field]?[hlc] == nil else { return false }
            let write = CausalWrite(hlc: hlc, value: change.value, observed: change.observed)
            guarded[field, default: [:]][hlc] = write
            delta.guardedWrite(write, of: field)
            if let latest = register(of: field).latest {
                let shown = StampedValue(value: latest.value, hlc: latest.hlc)
                if registers[field] != shown {
                    registers[field] = shown
                    delta.register(field)
                }
            }
            return true
        case .setAdd(let field, let element):
            guard sets[field, default: AddWinsSet()].add(element, tag: hlc) else { return false }
            delta.setTag(.init(field: field, element: element, tag: hlc))
            return true
        case .setRemove(let field, let element):
            // The removal is remembered even for an add not seen yet; of two removals the earliest stamp is kept.
            let changed = sets[field, default: AddWinsSet()].remove(element, observed: change.observed, at: hlc)
            for tag in changed { delta.setTag(.init(field: field, element: element, tag: tag)) }
            return !changed.isEmpty
        case .note(let id, let text, let author, let at, let channel, let sentiment, let followUp):
            // A note's first text is its revision with the note's id.
            _ = addRevision(id, RevisionEntry(note: id, text: text, author: author, at: at, hlc: hlc), into: &delta)
            guard notes[id] == nil else { return false }
            notes[id] = NoteEntry(author: author, channel: channel, at: at, sentiment: sentiment, followUp: followUp, hlc: hlc)
            delta.note(id)
            return true
        case .noteRevision(let id, let note, let text, let author, let at):
            return addRevision(id, RevisionEntry(note: note, text: text, author: author, at: at, hlc: hlc), into: &delta)
        case .noteRedaction(let note, let by, let at, let reason):
            // Of two redactions of one note made concurrently the earliest is kept, whatever the arrival order.
            if let current = redactions[note], current.hlc <= hlc { return false }
            redactions[note] = RedactionEntry(by: by, at: at, reason: reason, hlc: hlc)
            for (id, revision) in revisions where revision.note == note { revisions[id]?.text = nil }
            delta.redaction(note)
            return true
        case .consent(let id, let purpose, let status, let source, let at):
            guard consents[id] == nil else { return false }
            consents[id] = ConsentEntry(purpose: purpose, status: status, source: source, at: at, observed: change.observed, hlc: hlc)
            delta.consent(id)
            return true
        case .lifeEvent(let id, let type, let date, let source, let confidence, let detail):
            guard lifeEvents[id] == nil else { return false }
            lifeEvents[id] = LifeEventEntry(type: type, date: date, source: source, confidence: confidence, detail: detail, hlc: hlc)
            delta.lifeEvent(id)
            return true
        case .contact(let id, let channel, let purpose, let topic, let at, let outcome):
            guard contacts[id] == nil else { return false }
            contacts[id] = ContactEntry(channel: channel, purpose: purpose, topic: topic, at: at, outcome: outcome, hlc: hlc)
            delta.contact(id)
            return true
        }
    }

    /// Adds a note's text; a text of a redacted note is kept without its words, whichever arrives first.
    private mutating func addRevision(_ id: String, _ entry: RevisionEntry, into delta: inout StateDelta) -> Bool {
        guard revisions[id] == nil else { return false }
        var entry = entry
        if redactions[entry.note] != nil { entry.text = nil }
        revisions[id] = entry
        delta.revision(id)
        return true
    }

    /// The writes of a guarded field as its register: its heads, whether they conflict.
    public func register(of field: String) -> CausalRegister {
        guarded[field].map { CausalRegister($0.values) } ?? CausalRegister()
    }
}
