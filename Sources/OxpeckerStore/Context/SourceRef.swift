import OxpeckerProtocol

/// The record a statement of the brief, a gate reason or a signal comes from:
/// a profile field by name, or a note, life event, contact or consent decision by id.
public struct SourceRef: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// What kind of record it is.
    public enum Kind: String, Sendable, Hashable, Comparable {
        case field, note
        case lifeEvent = "life_event"
        case contact, consent
        /// A rule of ``ContextRules`` (a default the bank set), by its key.
        case rule

        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public let kind: Kind
    /// The field's name, or the record's id.
    public let id: String

    public init(kind: Kind, id: String) {
        self.kind = kind
        self.id = id
    }

    /// A profile field, by name.
    public static func field(_ name: String) -> SourceRef { SourceRef(kind: .field, id: name) }
    public static func note(_ id: RecordID) -> SourceRef { SourceRef(kind: .note, id: id.rawValue) }
    public static func lifeEvent(_ id: RecordID) -> SourceRef { SourceRef(kind: .lifeEvent, id: id.rawValue) }
    public static func contact(_ id: RecordID) -> SourceRef { SourceRef(kind: .contact, id: id.rawValue) }
    public static func consent(_ id: RecordID) -> SourceRef { SourceRef(kind: .consent, id: id.rawValue) }
    /// A rule, by its key in the rules document, like `default_budget`.
    public static func rule(_ key: String) -> SourceRef { SourceRef(kind: .rule, id: key) }

    /// `field stage`, `note 01J…`.
    public var description: String { "\(kind.rawValue) \(id)" }

    /// `{"kind":"note","id":"…"}`.
    public var json: JSONValue { ["kind": .string(kind.rawValue), "id": .string(id)] }

    public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.kind, lhs.id) < (rhs.kind, rhs.id) }
}

extension Instant {
    /// Whole days of 24 hours before this instant.
    func minus(days: Int) -> Instant { Instant(millisecondsSince1970: millisecondsSince1970 - Int64(days) * Self.millisecondsPerDay) }

    /// The UTC calendar day of this instant.
    var utcDay: LocalDate { LocalDate(daysSince1970: Int(millisecondsSince1970.floorDivided(by: Self.millisecondsPerDay))) }

    static let millisecondsPerDay: Int64 = 86_400_000
}

extension Int64 {
    /// Division rounding toward minus infinity, for days before 1970.
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
