import OxpeckerProtocol

/// What a note's redaction does to the changes a server keeps and serves, the
/// same for every backend: the note's change and every revision of it lose their
/// text (who wrote it and when stay), in the log as stored, so that no pull page,
/// snapshot or retry served afterwards carries it; a revision that arrives after
/// the redaction is stored without its text from the start.
enum RedactionRules {
    /// The note whose text `change` carries (a note, or a revision of one), or nil.
    static func note(whoseTextIsIn change: Change) -> String? {
        switch change.entity {
        case .note: change.record?.rawValue
        case .noteRevision: change.value["note"]?.stringValue
        default: nil
        }
    }

    /// The note a redaction change redacts, or nil if `change` is not a redaction.
    static func note(redactedBy change: Change) -> String? {
        change.entity == .noteRedaction ? change.record?.rawValue : nil
    }

    /// `change` without its text, as it is stored once its note is redacted; nil
    /// if it carries no text (already removed, or not a note or revision).
    static func withoutText(_ change: Change) -> Change? {
        guard note(whoseTextIsIn: change) != nil, case .object(var members) = change.value,
            let text = members["text"], !text.isNull
        else { return nil }
        var blanked = change
        members["text"] = .null
        blanked.value = .object(members)
        return blanked
    }

    /// The notes the redaction changes `bodies` redact.
    static func notes(redactedIn bodies: [String]) throws -> Set<String> {
        let codec = WireCodec()
        return Set(try bodies.compactMap { note(redactedBy: try codec.decode(Change.self, from: $0)) })
    }

    /// The stored bodies among `bodies` (position, body) of changes carrying the
    /// text of one of `notes`, re-encoded without it: what a backend writes back.
    static func blankedBodies(_ bodies: [(position: Int64, body: String)], of notes: Set<String>) throws -> [(position: Int64, body: String)] {
        let codec = WireCodec()
        return try bodies.compactMap { position, body in
            let change = try codec.decode(Change.self, from: body)
            guard let note = note(whoseTextIsIn: change), notes.contains(note), let blanked = withoutText(change) else { return nil }
            return (position, codec.encodeText(blanked))
        }
    }
}
