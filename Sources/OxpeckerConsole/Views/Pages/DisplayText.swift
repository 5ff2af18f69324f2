import Foundation
import OxpeckerProtocol
import OxpeckerStore

/// How values read on the pages.
enum DisplayText {
    /// `2026-11-24 16:30 Europe/Prague`: the minute in the advisor's time zone (the machine's, where the
    /// console runs), named; `2026-11-24 15:30 UTC` on a machine set to UTC. The customer's own time zone
    /// shows where it matters, in the contact gate's quiet-hours reason.
    static func minute(_ instant: Instant, in zone: TimeZone = .current) -> String {
        let offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant.millisecondsSince1970) / 1000))
        let text = Instant(millisecondsSince1970: instant.millisecondsSince1970 + Int64(offset) * 1000).description
        guard text.count >= 16 else { return instant.description }
        let name = ["UTC", "GMT", "Etc/UTC", "Etc/GMT", "Universal", "Zulu"].contains(zone.identifier) ? "UTC" : zone.identifier
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(5)) + " " + name
    }

    /// `follow up`, from `follow_up`.
    static func words(_ name: String) -> String {
        name.replacingOccurrences(of: "_", with: " ")
    }

    /// A field's value for a person: text as is, lists joined, objects in their JSON form.
    static func value(_ value: JSONValue) -> String {
        if let text = value.stringValue { return text }
        if let items = value.arrayValue { return items.map(Self.value).joined(separator: ", ") }
        return value.canonicalText
    }
}

/// One `<option>` of a `<select>`.
struct Option {
    let value: String
    let label: String
    let selected: Bool

    /// The options of a closed list, `selected` chosen; an empty first option when `blank` names it.
    static func list(_ values: [String], selected: String?, blank: String? = nil) -> [Option] {
        (blank.map { [Option(value: "", label: $0, selected: selected == nil || selected == "")] } ?? [])
            + values.map { Option(value: $0, label: DisplayText.words($0), selected: $0 == selected) }
    }
}

/// A link to the record a statement comes from, on the same page.
struct SourceLink {
    let label: String
    /// `#note-…`, or empty for a source with no record on the page (a rule).
    let href: String
    let linked: Bool

    init(_ source: SourceRef) {
        // A record's id is long (a UUID): its first block names it well enough next to a statement.
        switch source.kind {
        case .field, .rule: label = source.description
        default: label = DisplayText.words(source.kind.rawValue) + " " + (source.id.split(separator: "-").first.map(String.init) ?? source.id)
        }
        switch source.kind {
        case .field: href = "#field-\(source.id)"
        case .note: href = "#note-\(source.id)"
        case .lifeEvent: href = "#life-event-\(source.id)"
        case .contact: href = "#contact-\(source.id)"
        case .consent: href = "#consent-\(source.id)"
        case .rule: href = ""
        }
        linked = !href.isEmpty
    }
}
