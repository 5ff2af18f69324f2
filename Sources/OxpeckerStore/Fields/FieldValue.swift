import OxpeckerProtocol

/// A Swift type that a profile field holds, with its JSON form.
public protocol FieldValue: Sendable, Equatable {
    /// The value as stored and carried on the wire.
    var json: JSONValue { get }
    /// Reads a value from its JSON form, or throws ``StoreError/invalidValue(field:reason:)``.
    init(json: JSONValue, field: String) throws(StoreError)
}

/// A closed list of values, written on the wire as their raw strings.
public protocol ChoiceValue: FieldValue, RawRepresentable<String>, CaseIterable {}

extension ChoiceValue {
    public var json: JSONValue { .string(rawValue) }

    public init(json: JSONValue, field: String) throws(StoreError) {
        guard let text = json.stringValue, let value = Self(rawValue: text) else {
            throw .invalidValue(
                field: field,
                reason: "'\(json.stringValue ?? json.canonicalText)' is not one of: " + Self.rawValues.joined(separator: ", "))
        }
        self = value
    }

    /// Every accepted raw value, in declaration order.
    public static var rawValues: [String] { allCases.map(\.rawValue) }

    /// Parses what a person typed, or throws an error that lists the accepted values.
    public init(input: String, field: String) throws(StoreError) {
        try self.init(json: .string(input), field: field)
    }
}

extension String: FieldValue {
    public var json: JSONValue { .string(self) }
    public init(json: JSONValue, field: String) throws(StoreError) {
        guard let text = json.stringValue else { throw .invalidValue(field: field, reason: "expected text") }
        self = text
    }
}

extension Bool: FieldValue {
    public var json: JSONValue { .bool(self) }
    public init(json: JSONValue, field: String) throws(StoreError) {
        guard let flag = json.boolValue else { throw .invalidValue(field: field, reason: "expected true or false") }
        self = flag
    }
}

extension LocalDate: FieldValue {
    public var json: JSONValue { .string(description) }
    public init(json: JSONValue, field: String) throws(StoreError) {
        do { try self.init(parsing: json.stringValue ?? "") } catch {
            throw .invalidValue(field: field, reason: error.description)
        }
    }
}

extension Instant: FieldValue {
    public var json: JSONValue { .string(description) }
    public init(json: JSONValue, field: String) throws(StoreError) {
        do { try self.init(parsing: json.stringValue ?? "") } catch {
            throw .invalidValue(field: field, reason: error.description)
        }
    }
}

extension Array: FieldValue where Element == Channel {
    public var json: JSONValue { .array(map(\.json)) }
    public init(json: JSONValue, field: String) throws(StoreError) {
        guard let elements = json.arrayValue, !elements.isEmpty else {
            throw .invalidValue(field: field, reason: "expected one or more channels")
        }
        var channels: [Channel] = []
        for element in elements {
            let channel = try Channel(json: element, field: field)
            guard !channels.contains(channel) else {
                throw .invalidValue(field: field, reason: "channel '\(channel.rawValue)' is listed twice")
            }
            channels.append(channel)
        }
        self = channels
    }
}
