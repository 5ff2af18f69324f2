import OxpeckerProtocol
import OxpeckerStore

/// A form value that is missing or not of the expected form. Its message says
/// what was expected, as the CLI's does for the same option.
public struct ConsoleInputError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// Turns what an advisor typed into a form into the store's values, with the
/// messages the CLI gives (the field's name in place of the option's).
enum FormInput {
    /// A value that must be there.
    static func required(_ form: FormFields, _ field: String) throws -> String {
        guard let value = form.trimmed(field) else { throw ConsoleInputError("\(field): required") }
        return value
    }

    /// A customer id (1 to 64 of `A-Z a-z 0-9 . _ : -`).
    static func customer(_ text: String) throws -> CustomerID {
        try CustomerID(validating: text)
    }

    /// A note id.
    static func note(_ text: String) throws -> RecordID {
        try RecordID(validating: text)
    }

    /// One of a closed list of values; the error lists them.
    static func choice<Value: ChoiceValue>(_ text: String, field: String, as type: Value.Type = Value.self) throws -> Value {
        guard let value = Value(rawValue: text) else {
            throw ConsoleInputError("\(field): '\(text)' is not one of: \(Value.rawValues.joined(separator: ", "))")
        }
        return value
    }

    /// A choice that may be left empty.
    static func optionalChoice<Value: ChoiceValue>(_ form: FormFields, _ field: String, as type: Value.Type = Value.self) throws -> Value? {
        try form.trimmed(field).map { try choice($0, field: field) }
    }

    /// A calendar date, `YYYY-MM-DD`, that may be left empty.
    static func optionalDate(_ form: FormFields, _ field: String) throws -> LocalDate? {
        guard let text = form.trimmed(field) else { return nil }
        do { return try LocalDate(parsing: text) } catch {
            throw ConsoleInputError("\(field): '\(text)' is not a valid date; expected YYYY-MM-DD, like 2026-03-01")
        }
    }

    /// A single-valued field's descriptor, by name; a set field is refused.
    static func singleField(_ name: String) throws -> FieldDescriptor {
        let field = try FieldCatalog.field(named: name)
        guard !field.isSet else { throw StoreError.invalidValue(field: name, reason: "is a set: add or remove elements instead") }
        return field
    }

    /// A required calendar date, `YYYY-MM-DD`.
    static func date(_ form: FormFields, _ field: String) throws -> LocalDate {
        guard let date = try optionalDate(form, field) else { throw ConsoleInputError("\(field): required, YYYY-MM-DD") }
        return date
    }

    /// A whole number, or `default` when the field is left empty.
    static func integer(_ form: FormFields, _ field: String, default value: Int) throws -> Int {
        guard let text = form.trimmed(field) else { return value }
        guard let number = Int(text) else { throw ConsoleInputError("\(field): '\(text)' is not a whole number") }
        return number
    }
}
