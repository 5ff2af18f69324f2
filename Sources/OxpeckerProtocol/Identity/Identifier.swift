import Foundation

/// The characters and length every Oxpecker identifier obeys on the wire:
/// 1 to 64 of `A–Z a–z 0–9 . _ : -`.
///
/// Customer, replica and record ids share the rule so that they are safe in
/// URLs, file names, logs and SQL without escaping.
public enum IdentifierRule {
    /// The longest identifier accepted.
    public static let maximumLength = 64

    /// Whether `text` is a valid identifier.
    public static func accepts(_ text: String) -> Bool {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= maximumLength else { return false }
        return utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: ":"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
    }
}

/// An identifier that is validated once, when it is made, and is then a plain string.
public protocol ValidatedIdentifier: RawRepresentable, Codable, Hashable, Comparable, Sendable,
    CustomStringConvertible where RawValue == String
{
    /// What the identifier names, for error messages ("customer id").
    static var noun: String { get }
    /// Makes the identifier without checking it; only for values already validated.
    init(unchecked rawValue: String)
}

extension ValidatedIdentifier {
    /// Makes an identifier, or returns nil when `rawValue` breaks ``IdentifierRule``.
    public init?(rawValue: String) {
        guard IdentifierRule.accepts(rawValue) else { return nil }
        self.init(unchecked: rawValue)
    }

    /// Makes an identifier, or throws ``ProtocolError/invalidIdentifier(kind:value:)``.
    public init(validating rawValue: String) throws(ProtocolError) {
        guard IdentifierRule.accepts(rawValue) else {
            throw .invalidIdentifier(kind: Self.noun, value: rawValue)
        }
        self.init(unchecked: rawValue)
    }

    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard IdentifierRule.accepts(text) else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: ProtocolError.invalidIdentifier(kind: Self.noun, value: text).description))
        }
        self.init(unchecked: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// The id of a customer, chosen by the bank (`c-1001`) or generated.
public struct CustomerID: ValidatedIdentifier {
    public static let noun = "customer id"
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

/// The id of a replica: one store on one device, or the server. Created once, never changes.
public struct ReplicaID: ValidatedIdentifier {
    public static let noun = "replica id"
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

/// The id of an appended record: a note, a revision, a consent event, a life event, a contact.
public struct RecordID: ValidatedIdentifier {
    public static let noun = "record id"
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
}

extension RecordID {
    /// A new random record id (a lowercase UUID), unique across replicas.
    public static func random() -> RecordID {
        RecordID(unchecked: UUIDText.random())
    }
}

extension ReplicaID {
    /// A new random replica id (a lowercase UUID).
    public static func random() -> ReplicaID {
        ReplicaID(unchecked: UUIDText.random())
    }
}

enum UUIDText {
    static func random() -> String {
        // Foundation's UUID is random (version 4); lowercase so ids compare the same everywhere.
        UUID().uuidString.lowercased()
    }
}

extension CustomerID: ExpressibleByStringLiteral {
    /// A customer id written in code; an invalid literal is a programmer error.
    public init(stringLiteral value: String) {
        precondition(IdentifierRule.accepts(value), "invalid customer id literal '\(value)'")
        self.init(unchecked: value)
    }
}

extension RecordID: ExpressibleByStringLiteral {
    /// A record id written in code; an invalid literal is a programmer error.
    public init(stringLiteral value: String) {
        precondition(IdentifierRule.accepts(value), "invalid record id literal '\(value)'")
        self.init(unchecked: value)
    }
}

extension ReplicaID: ExpressibleByStringLiteral {
    /// A replica id written in code; an invalid literal is a programmer error.
    public init(stringLiteral value: String) {
        precondition(IdentifierRule.accepts(value), "invalid replica id literal '\(value)'")
        self.init(unchecked: value)
    }
}
