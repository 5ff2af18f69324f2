import OxpeckerProtocol
import OxpeckerStore

/// Turns what a person typed into the store's values, with errors that say
/// what was expected. Every failure is an ``InputError`` or a ``StoreError``
/// (exit status 4), never a crash.
enum InputParsing {
    /// A customer id (1 to 64 of `A-Z a-z 0-9 . _ : -`).
    static func customer(_ text: String) throws -> CustomerID {
        try CustomerID(validating: text)
    }

    /// A note id, as printed by `oxpecker note add`.
    static func note(_ text: String) throws -> RecordID {
        try RecordID(validating: text)
    }

    /// A calendar date, `YYYY-MM-DD`, for the option named `option`.
    static func date(_ text: String, option: String) throws -> LocalDate {
        do { return try LocalDate(parsing: text) } catch {
            throw InputError.invalid("\(option): '\(text)' is not a valid date; expected YYYY-MM-DD, like 2026-03-01")
        }
    }

    /// An instant, RFC 3339 UTC, for the option named `option`.
    static func instant(_ text: String, option: String) throws -> Instant {
        do { return try Instant(parsing: text) } catch {
            throw InputError.invalid("\(option): '\(text)' is not a valid instant; expected like 2026-11-24T15:30:00Z")
        }
    }

    /// One of a closed list of values; the error lists them.
    static func choice<Value: ChoiceValue>(_ text: String, option: String, as type: Value.Type = Value.self) throws -> Value {
        guard let value = Value(rawValue: text) else {
            throw InputError.invalid("\(option): '\(text)' is not one of: \(Value.rawValues.joined(separator: ", "))")
        }
        return value
    }

    /// The help line for an option that takes one of `Value`'s values.
    static func choices<Value: ChoiceValue>(_ type: Value.Type) -> String {
        Value.rawValues.joined(separator: ", ")
    }

    /// A field's value from what a person typed, with instants in their one
    /// canonical form (`2026-11-24T15:30:00.000Z`), so equal instants are equal text.
    static func fieldValue(_ input: String, of field: FieldDescriptor) throws -> JSONValue {
        let value = try field.type.parse(input: input, field: field.name)
        if case .instant = field.type, let text = value.stringValue {
            return .string(try Instant(parsing: text).description)
        }
        return value
    }

    /// A single-valued field's descriptor, by name; a set field is refused with a hint.
    static func singleField(_ name: String) throws -> FieldDescriptor {
        let field = try FieldCatalog.field(named: name)
        guard !field.isSet else {
            throw StoreError.invalidValue(field: name, reason: "is a set: use `oxpecker customer add-to` or `remove-from`")
        }
        return field
    }

    /// A set field's descriptor, by name; a single-valued field is refused with a hint.
    static func setField(_ name: String) throws -> FieldDescriptor {
        let field = try FieldCatalog.field(named: name)
        guard field.isSet else {
            throw StoreError.invalidValue(field: name, reason: "is not a set: use `oxpecker customer set`")
        }
        return field
    }

    /// `FIELD=VALUE`, as given to `--set` or `--add`.
    static func assignment(_ text: String, option: String) throws -> (name: String, value: String) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw InputError.invalid("\(option): '\(text)' is not FIELD=VALUE")
        }
        return (String(text[..<equals]), String(text[text.index(after: equals)...]))
    }

    /// A positive count for `--limit`.
    static func limit(_ value: Int, option: String = "--limit") throws -> Int {
        guard value > 0 else { throw InputError.invalid("\(option): must be 1 or more, not \(value)") }
        return value
    }
}
