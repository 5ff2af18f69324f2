import OxpeckerProtocol

/// What merging changes into a ``CustomerState`` changed: the entries a store
/// writes back, by key (their new content is in the state). Entries are listed
/// once, in the order they first changed.
public struct StateDelta: Sendable {
    /// The customer became present on this replica through the change with this stamp (its row is written with it).
    public var created: HybridTimestamp?
    /// The customer was erased: everything about it goes and its tombstone is written; nothing else is listed.
    public var erased = false
    /// Fields whose shown value changed.
    public private(set) var registers: [String] = []
    /// New writes of guarded fields.
    public private(set) var guardedWrites: [(field: String, write: CausalWrite)] = []
    /// Set tags added or whose removal changed: (field, element, tag).
    public private(set) var setTags: [SetTagKey] = []
    public private(set) var notes: [String] = []
    public private(set) var revisions: [String] = []
    /// Notes whose redaction was recorded or replaced by an earlier one: their text goes everywhere.
    public private(set) var redactions: [String] = []
    public private(set) var consents: [String] = []
    public private(set) var lifeEvents: [String] = []
    public private(set) var contacts: [String] = []

    public init() {}

    /// Whether nothing changed.
    public var isEmpty: Bool {
        created == nil && !erased && registers.isEmpty && guardedWrites.isEmpty && setTags.isEmpty && notes.isEmpty && revisions.isEmpty
            && redactions.isEmpty && consents.isEmpty && lifeEvents.isEmpty && contacts.isEmpty
    }

    public struct SetTagKey: Sendable, Hashable {
        public let field: String
        public let element: String
        public let tag: HybridTimestamp
    }

    mutating func register(_ field: String) { if !registers.contains(field) { registers.append(field) } }
    mutating func guardedWrite(_ write: CausalWrite, of field: String) { guardedWrites.append((field, write)) }
    mutating func setTag(_ key: SetTagKey) { if !setTags.contains(key) { setTags.append(key) } }
    mutating func note(_ id: String) { notes.append(id) }
    mutating func revision(_ id: String) { revisions.append(id) }
    mutating func redaction(_ note: String) { if !redactions.contains(note) { redactions.append(note) } }
    mutating func consent(_ id: String) { consents.append(id) }
    mutating func lifeEvent(_ id: String) { lifeEvents.append(id) }
    mutating func contact(_ id: String) { contacts.append(id) }

    /// After an erasure only the erasure is left to write.
    mutating func erase() {
        self = StateDelta()
        erased = true
    }
}
