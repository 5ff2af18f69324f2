import OxpeckerProtocol

extension CustomerState {
    /// The state as a bootstrap page carries it (protocol version 3): every entry
    /// the merge keeps, each standing for one change, so that merging
    /// ``SnapshotState/changes(of:)`` into an empty state gives this state back.
    /// Registers keep only their winning write; a redacted note's texts are null.
    public var snapshot: SnapshotState {
        var snapshot = SnapshotState()
        for (field, shown) in registers where guarded[field] == nil {
            snapshot.registers.append(.init(field: field, hlc: shown.hlc, value: shown.value))
        }
        for (field, writes) in guarded {
            for write in writes.values {
                snapshot.guardedWrites.append(.init(field: field, hlc: write.hlc, value: write.value, observed: write.observed))
            }
        }
        for (field, set) in sets {
            for (element, tags) in set.tags {
                for (tag, state) in tags {
                    snapshot.setTags.append(.init(field: field, element: element, tag: tag, removed: state.removed))
                }
            }
        }
        snapshot.records = records
        return snapshot
    }

    /// The appended records, as the changes that appended them carry them (optional members omitted when absent).
    private var records: [SnapshotState.Record] {
        func record(_ entity: Entity, _ id: String, _ hlc: HybridTimestamp, field: String? = nil, observed: [HybridTimestamp] = [], _ value: [String: JSONValue?])
            -> SnapshotState.Record
        {
            SnapshotState.Record(
                entity: entity, field: field, record: RecordID(unchecked: id), hlc: hlc, value: .object(value.compactMapValues { $0 }), observed: observed)
        }
        func text(_ text: String?) -> JSONValue? { text.map(JSONValue.string) }
        var records: [SnapshotState.Record] = []
        for (id, note) in notes {
            // A note's first text is its revision with the note's id; null once the note is redacted.
            records.append(
                record(
                    .note, id, note.hlc,
                    [
                        "author": .string(note.author), "channel": .string(note.channel), "at": .string(note.at),
                        "text": revisions[id].flatMap { text($0.text) } ?? .null, "sentiment": text(note.sentiment),
                        "follow_up": text(note.followUp),
                    ]))
        }
        for (id, revision) in revisions where id != revision.note || notes[id] == nil {
            records.append(
                record(
                    .noteRevision, id, revision.hlc,
                    [
                        "note": .string(revision.note), "text": text(revision.text) ?? .null, "author": .string(revision.author),
                        "at": .string(revision.at),
                    ]))
        }
        for (note, redaction) in redactions {
            records.append(
                record(
                    .noteRedaction, note, redaction.hlc,
                    ["note": .string(note), "by": .string(redaction.by), "at": .string(redaction.at), "reason": text(redaction.reason)]))
        }
        for (id, consent) in consents {
            records.append(
                record(
                    .consent, id, consent.hlc, field: consent.purpose, observed: consent.observed,
                    ["status": .string(consent.status), "source": .string(consent.source), "at": .string(consent.at)]))
        }
        for (id, event) in lifeEvents {
            records.append(
                record(
                    .lifeEvent, id, event.hlc,
                    [
                        "type": .string(event.type), "date": .string(event.date), "source": .string(event.source),
                        "confidence": .integer(event.confidence), "detail": text(event.detail),
                    ]))
        }
        for (id, contact) in contacts {
            records.append(
                record(
                    .contact, id, contact.hlc,
                    [
                        "channel": .string(contact.channel), "purpose": .string(contact.purpose), "topic": .string(contact.topic),
                        "at": .string(contact.at), "outcome": .string(contact.outcome),
                    ]))
        }
        return records
    }
}
