import OxpeckerProtocol
import OxpeckerStore

/// Compact, readable text for people: one customer, a note, a field value.
enum HumanText {
    /// A field's value as a person would type it back (`3/month`, `email, sms`, `21:00-08:00 Europe/Prague`).
    static func value(_ value: JSONValue, of field: String) -> String {
        let type = FieldCatalog.descriptor(named: field)?.type
        switch type {
        case .quietHours?:
            if let hours = try? QuietHours(json: value, field: field) {
                return "\(hours.start)-\(hours.end) \(hours.timeZone)"
            }
        case .contactBudget?:
            if let budget = try? ContactBudget(json: value, field: field) { return "\(budget.maxContacts)/\(budget.period.rawValue)" }
        case .channelList?:
            if let channels = value.arrayValue?.compactMap(\.stringValue) { return channels.joined(separator: ", ") }
        case .firstTransaction?:
            if let first = try? FirstTransaction(json: value, field: field) {
                var parts: [String] = []
                if let date = first.date { parts.append(date.description) }
                if let place = first.place { parts.append("at \(place)") }
                if let what = first.what { parts.append(what) }
                if let amount = first.amount { parts.append("\(amount.value.text) \(amount.currency)") }
                return parts.joined(separator: ", ")
            }
        default:
            break
        }
        switch value {
        case .string(let text): return text
        case .bool(let flag): return flag ? "yes" : "no"
        default: return value.canonicalText
        }
    }

    /// `2026-11-24 15:30` (UTC) for an instant.
    static func minute(_ instant: Instant) -> String {
        let text = instant.description
        guard text.count >= 16 else { return text }
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(5))
    }

    /// `2026-11-24` for an instant.
    static func day(_ instant: Instant) -> String { String(instant.description.prefix(10)) }

    /// A text cut to `limit` characters on one line.
    static func short(_ text: String, _ limit: Int = 80) -> String {
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return line.count <= limit ? line : String(line.prefix(limit - 1)) + "…"
    }

    /// One line for a note: when, who, how, and its text (or who redacted it).
    static func note(_ note: Note) -> String {
        var line = "\(minute(note.at))  \(note.author) via \(note.channel?.rawValue ?? "?")"
        if let sentiment = note.sentiment { line += " (\(sentiment.rawValue))" }
        if let redaction = note.redaction {
            line += ": [redacted by \(redaction.by) on \(day(redaction.at))\(redaction.reason.map { ": \($0)" } ?? "")]"
        } else {
            line += ": " + short(note.text ?? "")
        }
        if note.revisionCount > 1 { line += " (edited)" }
        if let followUp = note.followUp { line += " — follow up \(followUp)" }
        return line + "  [\(note.id)]"
    }

    /// The whole customer, compact: who, where in the journey, how to reach them, what they agreed to, what happened.
    static func profile(_ profile: CustomerProfile) -> String {
        var lines = ["\(profile.displayName) (\(profile.id))"]
        func row(_ label: String, _ text: String) {
            let width = max(13, label.count + 2)
            lines.append("  " + label.padding(toLength: width, withPad: " ", startingAt: 0) + text)
        }
        func field(_ name: String) -> String? { profile.fields[name].map { value($0.value, of: name) } }
        var shown: Set<String> = ["preferred_name", "stage", "stage_reason", "created_at"]
        if let legal = field("legal_name"), legal != profile.displayName {
            row("legal name", legal)
        }
        shown.insert("legal_name")
        if let stage = profile.fields["stage"] {
            var text = "\(value(stage.value, of: "stage")) since \(day(Instant(millisecondsSince1970: stage.hlc.wallMillis)))"
            if let reason = field("stage_reason") { text += " (\(reason))" }
            row("stage", text)
        }
        for name in ["advisor", "segment"] {
            if let text = field(name) { row(name, text) }
            shown.insert(name)
        }
        let contactFields = FieldCatalog.all.filter { $0.section == .contactPreferences }.map(\.name)
        let contact = contactFields.compactMap { name in field(name).map { "\(name.replacingOccurrences(of: "_", with: " ")): \($0)" } }
        if !contact.isEmpty { row("contact", contact.joined(separator: "; ")) }
        shown.formUnion(contactFields)
        if !profile.consents.isEmpty {
            row("consents", profile.consents.map { "\($0.purpose) \($0.status.rawValue) (\(day($0.decidedBy.at)), \($0.decidedBy.source))" }.joined(separator: ", "))
        }
        for descriptor in FieldCatalog.all where !shown.contains(descriptor.name) {
            if let text = field(descriptor.name) {
                row(descriptor.name.replacingOccurrences(of: "_", with: " "), short(text, 100))
            } else if let elements = profile.sets[descriptor.name], !elements.isEmpty {
                row(descriptor.name, elements.joined(separator: ", "))
            }
        }
        if let created = profile[.createdAt] { row("customer since", day(created)) }
        if !profile.lifeEvents.isEmpty {
            lines.append("  life events")
            for event in profile.lifeEvents {
                var text = "    \(event.date)  \(event.typeName) (\(event.source), \(event.confidence)%)"
                if let detail = event.detail { text += ": " + short(detail) }
                lines.append(text)
            }
        }
        if !profile.recentNotes.isEmpty {
            let more = profile.noteCount > profile.recentNotes.count ? ", latest \(profile.recentNotes.count)" : ""
            lines.append("  notes (\(profile.noteCount)\(more))")
            lines += profile.recentNotes.map { "    " + note($0) }
        }
        if !profile.recentContacts.isEmpty {
            lines.append("  recent contacts")
            for contact in profile.recentContacts {
                lines.append("    \(minute(contact.at))  \(contact.channelName) \(contact.purpose) \"\(short(contact.topic, 60))\" → \(contact.outcomeName)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
