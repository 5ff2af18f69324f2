import OxpeckerProtocol

/// A field's value with the timestamp of the write that set it.
public struct StampedValue: Sendable, Hashable {
    public let value: JSONValue
    public let hlc: HybridTimestamp
}

/// A customer with its context, read in one call: profile fields, sets,
/// consents in force, life events, and the latest notes and contacts.
public struct CustomerProfile: Sendable, Hashable {
    public let id: CustomerID
    /// Every field that has a value, by name.
    public let fields: [String: StampedValue]
    /// Every set field's elements, sorted, by name (empty sets left out).
    public let sets: [String: [String]]
    /// The consent in force per purpose, sorted by purpose.
    public let consents: [ConsentState]
    /// Life events, latest date first.
    public let lifeEvents: [LifeEvent]
    /// The latest notes, newest first (at most ``StoreReader/recentNoteCount``).
    public let recentNotes: [Note]
    /// How many notes the customer has in all.
    public let noteCount: Int
    /// The latest contacts, newest first (at most ``StoreReader/recentContactCount``).
    public let recentContacts: [ContactRecord]

    /// The typed value of `field`, or nil if unset (or written by a newer peer in a form this build does not know).
    public subscript<Value: FieldValue>(_ field: ProfileField<Value>) -> Value? {
        guard let stamped = fields[field.name] else { return nil }
        return try? Value(json: stamped.value, field: field.name)
    }

    /// The elements of a set field, sorted.
    public func elements(of set: ProfileSet) -> [String] {
        sets[set.name] ?? []
    }

    /// The name to show a person: preferred name, else legal name, else the id.
    public var displayName: String {
        self[.preferredName] ?? self[.legalName] ?? id.rawValue
    }
}

/// One line of a customer list.
public struct CustomerSummary: Sendable, Hashable {
    public let id: CustomerID
    public let legalName: String?
    public let preferredName: String?
    public let stage: String?
    public let advisor: String?
    public let segment: String?
}

/// Which customers to list. Every criterion set must hold.
public struct CustomerFilter: Sendable, Hashable {
    public var scope: String?
    public var stage: Stage?
    public var advisor: String?
    public var segment: String?
    /// Only customers whose id sorts after this one (for paging).
    public var after: CustomerID?
    public var limit: Int

    public init(
        scope: String? = nil, stage: Stage? = nil, advisor: String? = nil, segment: String? = nil,
        after: CustomerID? = nil, limit: Int = 100
    ) {
        self.scope = scope
        self.stage = stage
        self.advisor = advisor
        self.segment = segment
        self.after = after
        self.limit = limit
    }
}

/// A full-text search hit: a customer found by name or by the text of a note.
public struct SearchHit: Sendable, Hashable {
    public enum Source: String, Sendable { case name, note }
    public let customer: CustomerID
    public let source: Source
    /// The note's id when the hit is in a note.
    public let note: RecordID?
    /// The matching text with the matches in [brackets].
    public let snippet: String
}
