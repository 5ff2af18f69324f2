/// One JSON value being decoded, with where it sits in the body and the
/// limits in force: the typed accessors throw a ``WireError`` that names the
/// spot, never trap.
///
/// ```swift
/// var object = try value.object()
/// let replica = try object.member("replica").identifier(ReplicaID.self)
/// try object.finish()
/// ```
public struct WireValue: Sendable {
    /// The value.
    public let json: JSONValue
    /// A JSON Pointer to the value.
    public let pointer: String
    /// The limits in force.
    public let limits: WireLimits

    /// Wraps `json`, found at `pointer`.
    public init(_ json: JSONValue, at pointer: String = "", limits: WireLimits) {
        self.json = json
        self.pointer = pointer
        self.limits = limits
    }

    func wrongType(_ expected: String) -> WireError {
        WireError(.wrongType, "expected \(expected), found \(json.typeName)", at: pointer)
    }

    /// The members of an object, with a record of which were read.
    public func object() throws(WireError) -> WireObject {
        guard case .object(let members) = json else { throw wrongType("an object") }
        return WireObject(members: members, pointer: pointer, limits: limits)
    }

    /// The elements of an array of 0 to `maximum` elements; `code` when longer.
    public func array(maximum: Int, minimum: Int = 0, code: ErrorCode = .tooManyItems) throws(WireError) -> [WireValue] {
        guard case .array(let elements) = json else { throw wrongType("an array") }
        guard elements.count <= maximum else {
            throw WireError(code, "\(elements.count) elements; at most \(maximum) are accepted", at: pointer)
        }
        guard elements.count >= minimum else {
            throw WireError(.tooManyItems, "\(elements.count) elements; at least \(minimum) are required", at: pointer)
        }
        return elements.enumerated().map { WireValue($1, at: pointer + "/\($0)", limits: limits) }
    }

    /// A string of at most `maximum` Unicode code points.
    public func string(maximum: Int? = nil) throws(WireError) -> String {
        guard case .string(let text) = json else { throw wrongType("a string") }
        let limit = maximum ?? limits.maximumStringCharacters
        guard text.utf8.count <= limit || text.unicodeScalars.count <= limit else {
            throw WireError(.stringTooLong, "\(text.unicodeScalars.count) characters; at most \(limit) are accepted", at: pointer)
        }
        return text
    }

    /// A 64-bit integer within `range`.
    public func integer(in range: ClosedRange<Int64> = Int64.min...Int64.max) throws(WireError) -> Int64 {
        guard case .integer(let number) = json else { throw wrongType("an integer") }
        guard range.contains(number) else {
            throw WireError(.invalidValue, "\(number) is outside \(range.lowerBound)...\(range.upperBound)", at: pointer)
        }
        return number
    }

    /// An `Int` within `range`.
    public func int(in range: ClosedRange<Int>) throws(WireError) -> Int {
        Int(try integer(in: Int64(range.lowerBound)...Int64(range.upperBound)))
    }

    /// A boolean.
    public func bool() throws(WireError) -> Bool {
        guard case .bool(let flag) = json else { throw wrongType("true or false") }
        return flag
    }

    /// An identifier that obeys ``IdentifierRule``.
    public func identifier<ID: ValidatedIdentifier>(_ type: ID.Type) throws(WireError) -> ID {
        let text = try string(maximum: IdentifierRule.maximumLength * 4)
        do { return try ID(validating: text) } catch { throw WireError(error, at: pointer) }
    }

    /// A hybrid timestamp in its fixed-width string form.
    public func timestamp() throws(WireError) -> HybridTimestamp {
        let text = try string(maximum: 23 + IdentifierRule.maximumLength)
        do { return try HybridTimestamp(parsing: text) } catch { throw WireError(error, at: pointer) }
    }

    /// An instant in its one form, `2026-11-24T15:31:50.123Z`.
    public func instant() throws(WireError) -> Instant {
        let text = try string(maximum: 64)
        guard text.utf8.count == 24, text.utf8.last == UInt8(ascii: "Z"), text.utf8.dropFirst(19).first == UInt8(ascii: ".")
        else {
            throw WireError(.invalidDate, "instant '\(text)' is not in the form 2026-11-24T15:31:50.123Z (UTC, milliseconds)", at: pointer)
        }
        do { return try Instant(parsing: text) } catch { throw WireError(error, at: pointer) }
    }

    /// A wire token (``WireTokenRule``).
    public func token<Token: WireToken>(_ type: Token.Type) throws(WireError) -> Token {
        Token(unchecked: try tokenText())
    }

    /// The text of a wire token: snake_case, 1 to 64 characters.
    public func tokenText() throws(WireError) -> String {
        let text = try string(maximum: Limits.tokenCharacters)
        guard WireTokenRule.accepts(text) else {
            throw WireError(.invalidValue, "'\(text)' is not a snake_case name (a-z, 0-9, _; 1 to 64)", at: pointer)
        }
        return text
    }

    /// Any exact JSON value, with every string and key checked against the string limit.
    public func exactValue() throws(WireError) -> JSONValue {
        try checkStrings(json, at: pointer)
        return json
    }

    private func checkStrings(_ value: JSONValue, at pointer: String) throws(WireError) {
        switch value {
        case .string:
            _ = try WireValue(value, at: pointer, limits: limits).string()
        case .array(let elements):
            for (index, element) in elements.enumerated() { try checkStrings(element, at: pointer + "/\(index)") }
        case .object(let members):
            for (key, member) in members {
                let path = pointer + "/" + WireObject.escape(key)
                _ = try WireValue(.string(key), at: path, limits: limits).string(maximum: Limits.tokenCharacters * 4)
                try checkStrings(member, at: path)
            }
        case .null, .bool, .integer:
            break
        }
    }
}

/// The members of a JSON object being decoded. Reading a member marks it used;
/// ``finish()`` refuses any member nobody read (``ErrorCode/unknownField``).
public struct WireObject: Sendable {
    let members: [String: JSONValue]
    /// A JSON Pointer to the object.
    public let pointer: String
    /// The limits in force.
    public let limits: WireLimits
    private var used: Set<String> = []

    init(members: [String: JSONValue], pointer: String, limits: WireLimits) {
        self.members = members
        self.pointer = pointer
        self.limits = limits
    }

    /// The required member `key`; ``ErrorCode/missingField`` if absent.
    public mutating func member(_ key: String) throws(WireError) -> WireValue {
        guard let value = members[key] else {
            throw WireError(.missingField, "'\(key)' is required", at: pointer + "/" + Self.escape(key))
        }
        used.insert(key)
        return WireValue(value, at: pointer + "/" + Self.escape(key), limits: limits)
    }

    /// The optional member `key`; nil when absent. An absent member is omitted,
    /// never written `null` (``ErrorCode/wrongType``), so every message has one form.
    public mutating func optionalMember(_ key: String) throws(WireError) -> WireValue? {
        guard let value = members[key] else { return nil }
        used.insert(key)
        let path = pointer + "/" + Self.escape(key)
        guard value != .null else { throw WireError(.wrongType, "'\(key)' is optional: omit it rather than send null", at: path) }
        return WireValue(value, at: path, limits: limits)
    }

    /// The names of the members no one has read yet, sorted.
    public var unreadKeys: [String] {
        members.keys.filter { !used.contains($0) }.sorted()
    }

    /// Refuses members nobody read: the protocol defines every member of every message.
    public func finish() throws(WireError) {
        if let key = unreadKeys.first {
            throw WireError(.unknownField, "'\(key)' is not a member of this message", at: pointer + "/" + Self.escape(key))
        }
    }

    /// Escapes a key for a JSON Pointer (RFC 6901).
    static func escape(_ key: String) -> String {
        key.replacing("~", with: "~0").replacing("/", with: "~1")
    }
}

extension JSONValue {
    /// The JSON type's name, for error messages.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer: "an integer"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
