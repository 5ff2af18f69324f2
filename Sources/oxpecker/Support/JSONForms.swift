import Foundation
import OxpeckerProtocol
import OxpeckerStore

/// The `--json` forms of what the store reads, printed as canonical JSON
/// (``JSONValue/canonicalText``). Names are snake_case, as on the wire; an
/// absent optional value is `null`, so every object of a kind has the same keys.
extension CustomerProfile {
    /// The customer as `oxpecker show --json` prints it.
    var jsonForm: JSONValue {
        [
            "id": .string(id.rawValue),
            "display_name": .string(displayName),
            "fields": .object(fields.mapValues(\.value)),
            "updated": .object(fields.mapValues { .string(Instant(millisecondsSince1970: $0.hlc.wallMillis).description) }),
            "stage_since": fields[ProfileField.stage.name].map { .string(Instant(millisecondsSince1970: $0.hlc.wallMillis).description) } ?? .null,
            "sets": .object(sets.mapValues { .array($0.map(JSONValue.string)) }),
            "consents": .array(consents.map(\.jsonForm)),
            "life_events": .array(lifeEvents.map(\.jsonForm)),
            "recent_notes": .array(recentNotes.map(\.jsonForm)),
            "note_count": .integer(Int64(noteCount)),
            "recent_contacts": .array(recentContacts.map(\.jsonForm)),
        ]
    }
}

extension ConsentState {
    var jsonForm: JSONValue {
        [
            "purpose": .string(purpose), "status": .string(status.rawValue), "source": .string(decidedBy.source),
            "at": .string(decidedBy.at.description),
        ]
    }
}

extension LifeEvent {
    var jsonForm: JSONValue {
        [
            "id": .string(id.rawValue), "type": .string(typeName), "date": .string(date.description), "source": .string(source),
            "confidence": .integer(Int64(confidence)), "detail": detail.map(JSONValue.string) ?? .null,
        ]
    }
}

extension Note {
    var jsonForm: JSONValue {
        [
            "id": .string(id.rawValue), "customer": .string(customer.rawValue), "author": .string(author),
            "channel": channel.map { .string($0.rawValue) } ?? .null, "at": .string(at.description),
            "text": text.map(JSONValue.string) ?? .null, "sentiment": sentiment.map { .string($0.rawValue) } ?? .null,
            "follow_up": followUp.map { .string($0.description) } ?? .null, "revisions": .integer(Int64(revisionCount)),
            "redaction": redaction.map { redaction -> JSONValue in
                ["by": .string(redaction.by), "at": .string(redaction.at.description), "reason": redaction.reason.map(JSONValue.string) ?? .null]
            } ?? .null,
            "device": .string(device.rawValue),
        ]
    }
}

extension ContactRecord {
    var jsonForm: JSONValue {
        [
            "id": .string(id.rawValue), "channel": .string(channelName), "purpose": .string(purpose), "topic": .string(topic),
            "at": .string(at.description), "outcome": .string(outcomeName),
        ]
    }
}

extension CustomerSummary {
    var jsonForm: JSONValue {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        return [
            "id": .string(id.rawValue), "legal_name": text(legalName), "preferred_name": text(preferredName),
            "stage": text(stage), "advisor": text(advisor), "segment": text(segment),
        ]
    }
}

extension SearchHit {
    var jsonForm: JSONValue {
        [
            "customer": .string(customer.rawValue), "source": .string(source.rawValue),
            "note": note.map { .string($0.rawValue) } ?? .null, "snippet": .string(snippet),
        ]
    }
}

extension FieldDescriptor {
    var jsonForm: JSONValue {
        [
            "name": .string(name), "kind": .string(kind.rawValue), "type": .string(type.name), "section": .string(section.rawValue),
            "summary": .string(summary), "input": .string(type.inputHint),
        ]
    }
}

extension FieldType {
    /// A short name for the type, for `oxpecker fields`.
    var name: String {
        switch self {
        case .text: "text"
        case .date: "date"
        case .instant: "instant"
        case .bool: "bool"
        case .choice: "choice"
        case .channelList: "channel_list"
        case .quietHours: "quiet_hours"
        case .contactBudget: "contact_budget"
        case .firstTransaction: "first_transaction"
        case .setElement, .scope: "set"
        }
    }
}

extension Change {
    /// The change in its wire form, as canonical JSON text.
    func canonicalText() throws -> String {
        let data = try JSONEncoder().encode(self)
        return try JSONValue(parsing: data).canonicalText
    }
}
