import Foundation
import OxpeckerProtocol

/// The shape of a profile field's value: what it accepts, how it is written in
/// JSON, and how a person types it on the command line.
public enum FieldType: Sendable, Hashable {
    /// Free text of at most `maxLength` characters.
    case text(maxLength: Int)
    /// A calendar date, `YYYY-MM-DD`.
    case date
    /// An instant, RFC 3339 UTC.
    case instant
    /// `true` or `false`.
    case bool
    /// One of a fixed list of values.
    case choice([String])
    /// A list of contact channels, most preferred first.
    case channelList
    /// Quiet hours in the customer's time zone: `{"start":"21:00","end":"08:00","time_zone":"Europe/Prague"}`.
    case quietHours
    /// At most N proactive contacts per period: `{"max_contacts":3,"period":"month"}`.
    case contactBudget
    /// The first transaction: `{"date":…,"place":…,"what":…,"amount":{"value":"12.50","currency":"EUR"}}`.
    case firstTransaction
    /// An element of an add-wins set: text of at most `maxLength` characters.
    case setElement(maxLength: Int)
    /// A scope, `kind:name` (``ScopeRule``), as an element of the `scopes` set: only
    /// scopes a token can name, so that every page that lists a customer's scopes is valid.
    case scope

    /// A short human description of the accepted input, for help and error messages.
    public var inputHint: String {
        switch self {
        case .text(let maxLength): "text, at most \(maxLength) characters"
        case .date: "a date, YYYY-MM-DD"
        case .instant: "an instant, like 2026-11-24T15:30:00Z"
        case .bool: "true or false"
        case .choice(let values): "one of: " + values.joined(separator: ", ")
        case .channelList: "channels, most preferred first, comma-separated (" + Channel.allCases.map(\.rawValue).joined(separator: ", ") + ")"
        case .quietHours: "START-END TIMEZONE, like '21:00-08:00 Europe/Prague'"
        case .contactBudget: "N/PERIOD, like 3/month (period: " + BudgetPeriod.allCases.map(\.rawValue).joined(separator: ", ") + ")"
        case .firstTransaction: "JSON, like {\"date\":\"2026-01-05\",\"place\":\"branch HN01\",\"what\":\"deposit\",\"amount\":{\"value\":\"500.00\",\"currency\":\"EUR\"}}"
        case .setElement(let maxLength): "text, at most \(maxLength) characters"
        case .scope: "a scope, kind:name, like branch:HN01"
        }
    }

    /// The value's JSON form on the wire, in a few words (for `Protocol/data-model.md`).
    /// A set field's changes carry `{"element": …, "op": "add" | "remove"}`; this is the element's form.
    public var wireForm: String {
        switch self {
        case .text(let maxLength): "string, 1 to \(maxLength) code points"
        case .date: "date, `\"YYYY-MM-DD\"`"
        case .instant: "instant, written `\"2026-11-24T15:31:50.123Z\"` (read also with an offset and 0 to 3 fraction digits)"
        case .bool: "`true` or `false`"
        case .choice(let values): "string, one of: " + values.map { "`\($0)`" }.joined(separator: ", ")
        case .channelList:
            "array of 1 or more distinct channels, most preferred first: " + Channel.allCases.map { "`\($0.rawValue)`" }.joined(separator: ", ")
        case .quietHours:
            "`{\"start\": \"HH:MM\", \"end\": \"HH:MM\", \"time_zone\": IANA zone}`, start and end differ"
        case .contactBudget:
            "`{\"max_contacts\": 0 to 1000, \"period\": PERIOD}`, PERIOD one of: "
                + BudgetPeriod.allCases.map { "`\($0.rawValue)`" }.joined(separator: ", ")
        case .firstTransaction:
            "object with some of `date` (date), `place`, `what` (strings, 1 to 500 code points), "
                + "`amount` (`{\"value\": decimal string, \"currency\": ISO 4217 code like \"EUR\"}`)"
        case .setElement(let maxLength): "element: string, 1 to \(maxLength) code points"
        case .scope: "element: a scope, `kind:name` (a snake_case token, `:`, an identifier)"
        }
    }

    /// Checks that `value` fits this type; `null` (clearing a field) always fits.
    public func validate(_ value: JSONValue, field: String) throws(StoreError) {
        if value.isNull { return }
        func bad(_ reason: String) -> StoreError { .invalidValue(field: field, reason: reason) }
        switch self {
        case .text(let maxLength), .setElement(let maxLength):
            guard let text = value.stringValue else { throw bad("expected text") }
            guard !text.isEmpty else { throw bad("must not be empty (clear the field instead)") }
            guard text.unicodeScalars.count <= maxLength else { throw bad("longer than \(maxLength) characters") }
        case .scope:
            guard let text = value.stringValue, ScopeRule.accepts(text) else {
                throw bad("expected a scope, kind:name like branch:HN01 (a snake_case kind, ':', an identifier)")
            }
        case .date:
            guard let text = value.stringValue else { throw bad("expected a date, YYYY-MM-DD") }
            do { _ = try LocalDate(parsing: text) } catch { throw bad(error.description) }
        case .instant:
            guard let text = value.stringValue else { throw bad("expected an instant") }
            do { _ = try Instant(parsing: text) } catch { throw bad(error.description) }
        case .bool:
            guard value.boolValue != nil else { throw bad("expected true or false") }
        case .choice(let values):
            guard let text = value.stringValue, values.contains(text) else {
                throw bad("'\(value.stringValue ?? value.canonicalText)' is not one of: \(values.joined(separator: ", "))")
            }
        case .channelList:
            _ = try [Channel](json: value, field: field)
        case .quietHours:
            _ = try QuietHours(json: value, field: field)
        case .contactBudget:
            _ = try ContactBudget(json: value, field: field)
        case .firstTransaction:
            _ = try FirstTransaction(json: value, field: field)
        }
    }

    /// Turns what a person typed into a value of this type, or throws a clear error.
    public func parse(input: String, field: String) throws(StoreError) -> JSONValue {
        let trimmed = input.trimmingCharacters(in: .whitespaces)
        let value: JSONValue
        switch self {
        case .text, .setElement, .scope, .date, .instant, .choice:
            value = .string(trimmed)
        case .bool:
            switch trimmed.lowercased() {
            case "true", "yes", "1": value = .bool(true)
            case "false", "no", "0": value = .bool(false)
            default: throw .invalidValue(field: field, reason: "'\(input)' is not true or false")
            }
        case .channelList:
            value = .array(trimmed.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) })
        case .quietHours:
            value = try QuietHours(input: trimmed, field: field).json
        case .contactBudget:
            value = try ContactBudget(input: trimmed, field: field).json
        case .firstTransaction:
            do { value = try JSONValue(parsing: trimmed) } catch {
                throw .invalidValue(field: field, reason: error.description)
            }
        }
        try validate(value, field: field)
        return value
    }
}
