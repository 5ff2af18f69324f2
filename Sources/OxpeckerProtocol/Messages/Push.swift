/// A device sends the changes of its outbox, oldest first: `POST /v1/push`.
///
/// Every change must come from the pushing replica. Push is idempotent by
/// `(replica, number)`: a retried push gets `duplicate` for what was already
/// accepted, never a second copy.
///
/// ```swift
/// let request = PushRequest(replica: me, changes: outbox.pending(limit: 500))
/// ```
public struct PushRequest: WireMessage {
    public static let wireName = "push_request"

    /// The pushing replica.
    public var replica: ReplicaID
    /// The changes, oldest first: 1 to ``WireLimits/maximumChangesPerPush``.
    public var items: [ChangeItem]

    /// A push of `changes` made by `replica`.
    public init(replica: ReplicaID, changes: [Change]) {
        self.replica = replica
        self.items = changes.map(ChangeItem.change)
    }

    /// A push that may carry changes this build does not understand (a relay, a test).
    public init(replica: ReplicaID, items: [ChangeItem]) {
        self.replica = replica
        self.items = items
    }

    /// The changes this build understands.
    public var changes: [Change] { items.supported }

    public init(wire value: WireValue) throws(WireError) {
        var object = try value.object()
        replica = try object.member("replica").identifier(ReplicaID.self)
        let changes = try object.member("changes")
        items = try ChangeItem.list(changes, maximum: value.limits.maximumChangesPerPush)
        try object.finish()
        guard !items.isEmpty else { throw WireError(.tooManyItems, "a push carries at least one change", at: changes.pointer) }
        for (index, item) in items.enumerated() where item.replica != replica {
            throw WireError(
                .invalidValue, "the change was made by '\(item.replica)', not by the pushing replica '\(replica)'",
                at: changes.pointer + "/\(index)/replica")
        }
    }

    public var wireJSON: JSONValue {
        ["replica": .string(replica.rawValue), "changes": .array(items.map(\.wireJSON))]
    }
}

/// What became of one pushed change.
///
/// `accepted` and `duplicate` both acknowledge the change: the device may
/// drop it from its outbox. An outcome from a newer server that this build
/// does not know is treated as not acknowledged: the change stays and is pushed again.
public struct PushOutcome: WireToken {
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
    /// Makes an outcome from its wire name, or nil if it is not a well-formed token.
    public init?(rawValue: String) {
        guard WireTokenRule.accepts(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// Stored for the first time.
    public static let accepted = PushOutcome(unchecked: "accepted")
    /// Already stored by an earlier push: nothing changed.
    public static let duplicate = PushOutcome(unchecked: "duplicate")
    /// Refused; `reason` says why. Other changes of the push are unaffected.
    public static let rejected = PushOutcome(unchecked: "rejected")

    public static let known: [PushOutcome] = [.accepted, .duplicate, .rejected]

    /// Whether the device may drop the change from its outbox.
    public var isAcknowledged: Bool { self == .accepted || self == .duplicate }
}

/// The outcome of one change of a push, named by its number.
public struct PushResult: Hashable, Sendable {
    /// The change's number (the replica is the push's).
    public var number: Int64
    /// What became of it.
    public var outcome: PushOutcome
    /// Why it was rejected; present exactly when `outcome` is `rejected`.
    public var reason: ErrorCode?
    /// A human explanation of the rejection.
    public var message: String?

    /// Makes a result; `reason` and `message` only go with `rejected`.
    public init(number: Int64, outcome: PushOutcome, reason: ErrorCode? = nil, message: String? = nil) {
        self.number = number
        self.outcome = outcome
        self.reason = reason
        self.message = message
    }

    init(wire value: WireValue) throws(WireError) {
        var object = try value.object()
        number = try object.member("number").integer(in: 1...Int64.max)
        outcome = try object.member("outcome").token(PushOutcome.self)
        reason = try object.optionalMember("reason")?.token(ErrorCode.self)
        message = try object.optionalMember("message")?.string(maximum: Limits.messageCharacters)
        try object.finish()
        if outcome == .rejected, reason == nil {
            throw WireError(.missingField, "a rejected change needs a reason", at: value.pointer + "/reason")
        }
        if outcome.isAcknowledged, reason != nil || message != nil {
            throw WireError(.invalidValue, "only a rejected change has a reason or message", at: value.pointer)
        }
    }

    var wireJSON: JSONValue {
        var members: [String: JSONValue] = ["number": .integer(number), "outcome": .string(outcome.rawValue)]
        if let reason { members["reason"] = .string(reason.rawValue) }
        if let message { members["message"] = .string(message) }
        return .object(members)
    }
}

/// The server's answer to a push: one result per pushed change, in the push's order.
///
/// ```swift
/// let done = response.results.filter(\.outcome.isAcknowledged).map(\.number)
/// ```
public struct PushResponse: WireMessage {
    public static let wireName = "push_response"

    /// One result per pushed change, in order.
    public var results: [PushResult]
    /// The highest number N such that every change 1…N of this replica is stored
    /// on the server (0 if none): the device may drop all of them from its outbox.
    public var acknowledgedThrough: Int64

    /// Makes a response.
    public init(results: [PushResult], acknowledgedThrough: Int64) {
        self.results = results
        self.acknowledgedThrough = acknowledgedThrough
    }

    public init(wire value: WireValue) throws(WireError) {
        var object = try value.object()
        results = try object.member("results").array(maximum: value.limits.maximumChangesPerPush, code: .tooManyChanges)
            .map { (element) throws(WireError) in try PushResult(wire: element) }
        acknowledgedThrough = try object.member("acknowledged_through").integer(in: 0...Int64.max)
        try object.finish()
    }

    public var wireJSON: JSONValue {
        ["results": .array(results.map(\.wireJSON)), "acknowledged_through": .integer(acknowledgedThrough)]
    }
}
