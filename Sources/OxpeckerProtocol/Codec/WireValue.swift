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
    /// The limits in force.
    public let limits: WireLimits
    /// Where the value sits: spelled out as a JSON Pointer only when something asks.
    let location: WireLocation

    /// A JSON Pointer to the value.
    public var pointer: String { location.pointer }

    /// Wraps `json`, found at `pointer`.
    public init(_ json: JSONValue, at pointer: String = "", limits: WireLimits) {
        self.init(json, location: WireLocation(parent: nil, step: .root(pointer)), limits: limits)
    }

    init(_ json: JSONValue, location: WireLocation, limits: WireLimits) {
        self.json = json
        self.location = location
        self.limits = limits
    }

    func wrongType(_ expected: String) -> WireError {
        WireError(.wrongType, "expected \(expected), found \(json.typeName)", at: pointer)
    }

    /// The members of an object, with a record of which were read.
    public func object() throws(WireError) -> WireObject {
        guard case .object(let members) = json else { throw wrongType("an object") }
        return WireObject(members: members, location: WireLocationNode(location), limits: limits)
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
        let node = WireLocationNode(location)
        return elements.enumerated().map { WireValue($1, location: WireLocation(parent: node, step: .index($0)), limits: limits) }
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
        try checkStrings(json, at: location)
        return json
    }

    private func checkStrings(_ value: JSONValue, at location: WireLocation) throws(WireError) {
        switch value {
        case .string:
            _ = try WireValue(value, location: location, limits: limits).string()
        case .array(let elements):
            let node = WireLocationNode(location)
            for (index, element) in elements.enumerated() { try checkStrings(element, at: WireLocation(parent: node, step: .index(index))) }
        case .object(let members):
            let node = WireLocationNode(location)
            for (key, member) in members {
                let place = WireLocation(parent: node, step: .member(key))
                _ = try WireValue(.string(key), location: place, limits: limits).string(maximum: Limits.tokenCharacters * 4)
                try checkStrings(member, at: place)
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
    /// Where the object sits, shared by the values of its members.
    let location: WireLocationNode
    /// The limits in force.
    public let limits: WireLimits
    /// The members read so far (a handful: a list beats hashing).
    private var readKeys: [String] = []

    init(members: [String: JSONValue], location: WireLocationNode, limits: WireLimits) {
        self.members = members
        self.location = location
        self.limits = limits
    }

    /// A JSON Pointer to the object.
    public var pointer: String { location.location.pointer }

    /// The required member `key`; ``ErrorCode/missingField`` if absent.
    public mutating func member(_ key: String) throws(WireError) -> WireValue {
        guard let value = members[key] else {
            throw WireError(.missingField, "'\(key)' is required", at: pointer + "/" + Self.escape(key))
        }
        markRead(key)
        return WireValue(value, location: WireLocation(parent: location, step: .member(key)), limits: limits)
    }

    /// The optional member `key`; nil when absent. An absent member is omitted,
    /// never written `null` (``ErrorCode/wrongType``), so every message has one form.
    public mutating func optionalMember(_ key: String) throws(WireError) -> WireValue? {
        guard let value = members[key] else { return nil }
        markRead(key)
        let place = WireLocation(parent: location, step: .member(key))
        guard value != .null else { throw WireError(.wrongType, "'\(key)' is optional: omit it rather than send null", at: place.pointer) }
        return WireValue(value, location: place, limits: limits)
    }

    private mutating func markRead(_ key: String) {
        if !readKeys.contains(key) { readKeys.append(key) }
    }

    /// The names of the members no one has read yet, sorted.
    public var unreadKeys: [String] {
        members.keys.filter { !readKeys.contains($0) }.sorted()
    }

    /// Refuses members nobody read: the protocol defines every member of every message.
    public func finish() throws(WireError) {
        // Every key read is a member: as many read as there are means none is left.
        guard readKeys.count != members.count else { return }
        if let key = unreadKeys.first {
            throw WireError(.unknownField, "'\(key)' is not a member of this message", at: pointer + "/" + Self.escape(key))
        }
    }

    /// Escapes a key for a JSON Pointer (RFC 6901).
    static func escape(_ key: String) -> String {
        guard key.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return key }
        return key.replacing("~", with: "~0").replacing("/", with: "~1")
    }
}

/// Where a value sits in a message being decoded: its container and its key or
/// index there. Decoding a valid message never spells it out; the JSON Pointer
/// is built only for the error that names the spot.
struct WireLocation: Sendable {
    enum Step: Sendable {
        /// The top of what is decoded, at this pointer.
        case root(String)
        case member(String)
        case index(Int)
    }

    /// The container; nil at the top.
    let parent: WireLocationNode?
    let step: Step

    /// The location as a JSON Pointer (RFC 6901).
    var pointer: String {
        let prefix = parent?.location.pointer ?? ""
        switch step {
        case .root(let pointer): return prefix + pointer
        case .member(let key): return prefix + "/" + WireObject.escape(key)
        case .index(let index): return prefix + "/\(index)"
        }
    }
}

/// A container's location, shared by all its members' values (one allocation per container, none per member).
final class WireLocationNode: Sendable {
    let location: WireLocation

    init(_ location: WireLocation) {
        self.location = location
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
