/// One change to one customer, as a replica records it in its outbox and as
/// it travels between replicas: one profile field, one set element, or one
/// appended record.
///
/// A change is identified by `(replica, number)`: numbers start at 1 and
/// grow by one per replica, with no gaps, so a receiver can tell a retry from
/// a new change.
///
/// ```swift
/// let change = Change(replica: r, number: 1, hlc: t, customer: "c-1001",
///                     entity: .profile, field: "preferred_name", record: nil,
///                     kind: .register, value: "Jana")
/// ```
public struct Change: Codable, Hashable, Sendable {
    /// The replica that made the change.
    public var replica: ReplicaID
    /// The change's number within its replica: 1, 2, 3 … with no gaps.
    public var number: Int64
    /// When the change was made, on the replica's hybrid logical clock.
    public var hlc: HybridTimestamp
    /// The customer the change belongs to.
    public var customer: CustomerID
    /// What the change touches.
    public var entity: Entity
    /// The profile field, or the consent purpose; nil for other entities.
    public var field: String?
    /// The appended record's id; nil for profile fields and the customer itself.
    public var record: RecordID?
    /// The merge rule that resolves this change against concurrent ones.
    public var kind: MergeKind
    /// The new value: a field's value (null clears it), a set operation, or the record's content.
    public var value: JSONValue
    /// The timestamps of the entries this change knowingly supersedes (its causal
    /// context): the adds a set removal removes, the consent decisions a new
    /// decision replaces, the value a guarded register overwrites. Empty if none.
    public var observed: [HybridTimestamp]
    /// The schema version of the replica that made the change.
    public var schemaVersion: Int

    /// Makes a change; see the properties for what each value means.
    public init(
        replica: ReplicaID, number: Int64, hlc: HybridTimestamp, customer: CustomerID, entity: Entity,
        field: String?, record: RecordID?, kind: MergeKind, value: JSONValue,
        observed: [HybridTimestamp] = [], schemaVersion: Int = Change.currentSchemaVersion
    ) {
        self.replica = replica
        self.number = number
        self.hlc = hlc
        self.customer = customer
        self.entity = entity
        self.field = field
        self.record = record
        self.kind = kind
        self.value = value
        self.observed = observed
        self.schemaVersion = schemaVersion
    }

    /// The data-model version this build writes.
    public static let currentSchemaVersion = 1

    enum CodingKeys: String, CodingKey {
        case replica, number, hlc, customer, entity, field, record, kind, value, observed
        case schemaVersion = "schema_version"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        replica = try container.decode(ReplicaID.self, forKey: .replica)
        number = try container.decode(Int64.self, forKey: .number)
        hlc = try container.decode(HybridTimestamp.self, forKey: .hlc)
        customer = try container.decode(CustomerID.self, forKey: .customer)
        entity = try container.decode(Entity.self, forKey: .entity)
        field = try container.decodeIfPresent(String.self, forKey: .field)
        record = try container.decodeIfPresent(RecordID.self, forKey: .record)
        kind = try container.decode(MergeKind.self, forKey: .kind)
        value = try container.decodeIfPresent(JSONValue.self, forKey: .value) ?? .null
        observed = try container.decodeIfPresent([HybridTimestamp].self, forKey: .observed) ?? []
        schemaVersion = try container.decode(Int.self, forKey: .schemaVersion)
        guard number >= 1 else {
            throw DecodingError.dataCorruptedError(
                forKey: .number, in: container, debugDescription: "change numbers start at 1")
        }
        guard hlc.replica == replica else {
            throw DecodingError.dataCorruptedError(
                forKey: .hlc, in: container, debugDescription: "the hlc's replica must be the change's replica")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(replica, forKey: .replica)
        try container.encode(number, forKey: .number)
        try container.encode(hlc, forKey: .hlc)
        try container.encode(customer, forKey: .customer)
        try container.encode(entity, forKey: .entity)
        try container.encodeIfPresent(field, forKey: .field)
        try container.encodeIfPresent(record, forKey: .record)
        try container.encode(kind, forKey: .kind)
        try container.encode(value, forKey: .value)
        if !observed.isEmpty { try container.encode(observed, forKey: .observed) }
        try container.encode(schemaVersion, forKey: .schemaVersion)
    }
}
