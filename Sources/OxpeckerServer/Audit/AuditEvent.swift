import OxpeckerProtocol

/// One entry of the server's append-only audit trail: who did what to which
/// customer or token, when. It holds references only (ids, field names, scope
/// names, change numbers), never a value, a name or a note's text.
public struct AuditEvent: Sendable, Hashable {
    /// What happened.
    public struct Action: RawRepresentable, Sendable, Hashable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// A device's change to a customer was stored.
        public static let change = Action(rawValue: "change")
        /// A customer was erased.
        public static let erase = Action(rawValue: "erase")
        /// A device token was made.
        public static let tokenCreate = Action(rawValue: "token_create")
        /// A token was revoked.
        public static let tokenRevoke = Action(rawValue: "token_revoke")
        /// A token's scopes were replaced.
        public static let tokenScopes = Action(rawValue: "token_scopes")
        /// An administrator read the audit trail of a customer or of a token (recorded before it is shown).
        public static let auditRead = Action(rawValue: "audit_read")
        /// An administrator read where a customer's erasure stands.
        public static let erasureStatusRead = Action(rawValue: "erasure_status_read")
        /// An administrator listed the tokens of a kind (`detail`: `device` or `admin`).
        public static let tokenList = Action(rawValue: "token_list")
        /// An administrator exported the server's whole state (`oxpecker-server export`): every customer's data.
        public static let stateExport = Action(rawValue: "state_export")
    }

    /// Its place in the trail (grows by one per event).
    public let sequence: Int64
    public let at: Instant
    /// Who: a device token's id, an admin token's id, or the administrator's name.
    public let actor: String
    public let action: Action
    /// The customer it concerns, if any.
    public let customer: CustomerID?
    /// For a change: the entity (`profile`, `note` …), the field or consent purpose, the record's id.
    public let entity: String?
    public let field: String?
    public let record: String?
    /// The token it concerns, for token events.
    public let token: String?
    /// References that say more: `r-laptop-7#42` (the change), `add branch:HN01`, `scopes branch:A,branch:B`.
    public let detail: String?

    public init(
        sequence: Int64, at: Instant, actor: String, action: Action, customer: CustomerID?, entity: String?, field: String?,
        record: String?, token: String?, detail: String?
    ) {
        self.sequence = sequence
        self.at = at
        self.actor = actor
        self.action = action
        self.customer = customer
        self.entity = entity
        self.field = field
        self.record = record
        self.token = token
        self.detail = detail
    }
}

/// Which part of the audit trail to read.
public enum AuditQuery: Sendable, Hashable {
    /// Everything about one customer.
    case customer(CustomerID)
    /// Everything a device did, and everything done to its token.
    case device(tokenID: String)
}

extension AuditEvent {
    /// The event as the admin endpoint and `oxpecker-server audit --json` write it; absent references are left out.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "sequence": .integer(sequence), "at": .string(at.description), "actor": .string(actor), "action": .string(action.rawValue),
        ]
        let optional: [(String, String?)] = [
            ("customer", customer?.rawValue), ("entity", entity), ("field", field), ("record", record), ("token", token), ("detail", detail),
        ]
        for (key, value) in optional { if let value { object[key] = .string(value) } }
        return .object(object)
    }
}

extension AuditEvent {
    /// The detail of a stored change's event: where the change is (`r-laptop-7#42`),
    /// and for a change of scopes what it does (`add branch:HN01`), never a value.
    static func detail(of change: Change) -> String {
        var detail = "\(change.replica)#\(change.number)"
        if change.field == "scopes", let op = change.value["op"]?.stringValue, let scope = change.value["element"]?.stringValue {
            detail += " \(op) \(scope)"  // scope names are references, not personal data
        }
        return detail
    }

    /// The detail of a token's creation or scope change: its scopes (`scopes branch:A,branch:B`), or that it is an admin token.
    static func tokenDetail(_ kind: TokenKind, scopes: [String]) -> String {
        kind == .admin ? "admin token" : "scopes " + scopes.joined(separator: ",")
    }
}
