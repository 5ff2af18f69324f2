/// The wire form of ``Change``: strict decoding and canonical encoding.
///
/// Members: `replica`, `number`, `hlc`, `customer`, `entity`, `field`
/// (optional), `record` (optional), `kind`, `value` (required, may be null),
/// `observed` (omitted when empty), `schema_version`.
extension Change: WireMessage {
    public static let wireName = "change"

    public init(wire value: WireValue) throws(WireError) {
        switch try ChangeItem(wire: value) {
        case .change(let change):
            self = change
        case .unsupported(let unsupported):
            throw WireError(
                .unsupportedKind, "merge kind '\(unsupported.kind)' or entity '\(unsupported.entity)' is unknown to this build",
                at: value.pointer)
        }
    }

    public var wireJSON: JSONValue {
        var members: [String: JSONValue] = [
            "replica": .string(replica.rawValue),
            "number": .integer(number),
            "hlc": .string(hlc.description),
            "customer": .string(customer.rawValue),
            "entity": .string(entity.rawValue),
            "kind": .string(kind.rawValue),
            "value": value,
            "schema_version": .integer(Int64(schemaVersion)),
        ]
        if let field { members["field"] = .string(field) }
        if let record { members["record"] = .string(record.rawValue) }
        if !observed.isEmpty { members["observed"] = .array(observed.map { .string($0.description) }) }
        return .object(members)
    }
}

/// A change as it arrives inside a message: one this build understands, or
/// one from a newer peer whose merge kind or entity it does not know.
///
/// An unknown kind or entity never fails a whole message. A server rejects
/// that one change of a push with ``ErrorCode/unsupportedKind``; a client
/// keeps it from a pull or a snapshot as it is (``UnsupportedChange/json``)
/// and applies it after upgrading.
public enum ChangeItem: Hashable, Sendable {
    /// A change this build can apply.
    case change(Change)
    /// A well-formed change with a merge kind or entity this build does not know.
    case unsupported(UnsupportedChange)

    /// The replica that made the change.
    public var replica: ReplicaID {
        switch self {
        case .change(let change): change.replica
        case .unsupported(let unsupported): unsupported.replica
        }
    }

    /// The change's number within its replica.
    public var number: Int64 {
        switch self {
        case .change(let change): change.number
        case .unsupported(let unsupported): unsupported.number
        }
    }

    /// The customer the change belongs to.
    public var customer: CustomerID {
        switch self {
        case .change(let change): change.customer
        case .unsupported(let unsupported): unsupported.customer
        }
    }

    /// The change, if this build understands it.
    public var change: Change? {
        if case .change(let change) = self { return change }
        return nil
    }

    /// Decodes one change, strictly except for the values of `kind` and `entity`.
    public init(wire value: WireValue) throws(WireError) {
        var object = try value.object()
        let replica = try object.member("replica").identifier(ReplicaID.self)
        let number = try object.member("number").integer(in: 1...Int64.max)
        let hlcValue = try object.member("hlc")
        let hlc = try hlcValue.timestamp()
        guard hlc.replica == replica else {
            throw WireError(.invalidTimestamp, "the hlc's replica '\(hlc.replica)' is not the change's replica '\(replica)'", at: hlcValue.pointer)
        }
        let customer = try object.member("customer").identifier(CustomerID.self)
        let entityText = try object.member("entity").tokenText()
        let kindText = try object.member("kind").tokenText()
        let field = try object.optionalMember("field")?.tokenText()
        let record = try object.optionalMember("record")?.identifier(RecordID.self)
        let content = try object.member("value").exactValue()
        let observed = try object.optionalMember("observed")?.array(maximum: value.limits.maximumListItems, minimum: 1).map {
            (element) throws(WireError) in try element.timestamp()
        } ?? []
        let schemaVersion = try object.member("schema_version").int(in: 1...Int(Int32.max))
        try object.finish()
        guard let entity = Entity(rawValue: entityText), let kind = MergeKind(rawValue: kindText) else {
            self = .unsupported(
                UnsupportedChange(replica: replica, number: number, customer: customer, entity: entityText, kind: kindText, json: value.json))
            return
        }
        self = .change(
            Change(
                replica: replica, number: number, hlc: hlc, customer: customer, entity: entity, field: field,
                record: record, kind: kind, value: content, observed: observed, schemaVersion: schemaVersion))
    }

    /// The change as JSON: an unsupported change is written back exactly as it came.
    public var wireJSON: JSONValue {
        switch self {
        case .change(let change): change.wireJSON
        case .unsupported(let unsupported): unsupported.json
        }
    }

    /// Decodes an array of changes of at most `maximum` elements (``ErrorCode/tooManyChanges``).
    static func list(_ value: WireValue, maximum: Int) throws(WireError) -> [ChangeItem] {
        try value.array(maximum: maximum, code: .tooManyChanges).map { (element) throws(WireError) in
            try ChangeItem(wire: element)
        }
    }
}

/// A change from a newer peer whose merge kind or entity this build does not
/// know. Its identity is checked like any change's; the rest is kept verbatim.
public struct UnsupportedChange: Hashable, Sendable {
    /// The replica that made the change.
    public let replica: ReplicaID
    /// The change's number within its replica.
    public let number: Int64
    /// The customer the change belongs to.
    public let customer: CustomerID
    /// The entity as sent.
    public let entity: String
    /// The merge kind as sent.
    public let kind: String
    /// The whole change as it came, to store and apply after an upgrade.
    public let json: JSONValue
}

extension Array where Element == ChangeItem {
    /// The changes this build understands, in order.
    public var supported: [Change] { compactMap(\.change) }

    /// The changes this build does not understand, in order.
    public var unsupported: [UnsupportedChange] {
        compactMap { item in
            if case .unsupported(let unsupported) = item { return unsupported }
            return nil
        }
    }
}
