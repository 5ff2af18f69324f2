import OxpeckerProtocol
import OxpeckerStore

/// How a pushed change is judged, the same for every backend: the pure parts
/// of a push (the backends read the state the rules need, then ask here).
///
/// In order: a change of an unknown kind is answered `unsupported_kind` (kept
/// by the device, not refused for good); a known (replica, number) is a
/// duplicate, or answers its stored refusal again; a change stamped too far
/// ahead is answered `clock_skew` (the device fixes its clock and pushes
/// again); then refused for good: an erasure from a device, a change of an
/// erased customer, one outside the device's scopes, an invalid one.
enum PushRules {
    /// What a push's replica id means for the pushing token.
    enum Claim: Equatable {
        /// The token's own replica.
        case owned
        /// A replica new to the server: it becomes the token's.
        case first
        /// The replica's owner was revoked or expired: it moves to this token.
        case moved
    }

    /// A replica id belongs to the token of its first push. Another token may
    /// not push under it: it could fill the real device's next numbers, and the
    /// device's own changes would then be answered `duplicate` and never stored.
    /// The replica moves to a new token only once its owner is revoked or
    /// expired (a device given a new token); a JWT subject (`jwt:…`) keeps its replicas.
    /// `ownerValid`: the owner is a `jwt:` subject or an unrevoked, unexpired device token.
    static func claim(_ replica: ReplicaID, owner: String?, ownerValid: Bool, by device: DeviceIdentity) throws(ServerError) -> Claim {
        guard let owner else { return .first }
        if owner == device.tokenID { return .owned }
        guard !ownerValid else {
            throw ServerError(
                .forbidden,
                "replica '\(replica)' pushes under another device token; each store pushes under its own token (a copied store file needs a new store: `oxpecker init`)")
        }
        return .moved
    }

    /// The answer to a change under a (replica, number) the server holds with another body, or nil if
    /// `stored` is this change (a retry: a duplicate). Another body comes from a second store with this
    /// replica id (a copied file).
    static func replicaConflict(of change: Change, stored: String) -> PushResult? {
        guard stored != WireCodec().encodeText(change) else { return nil }
        return PushResult(
            number: change.number, outcome: .rejected, reason: .replicaConflict,
            message: "the server holds a different change \(change.replica)#\(change.number): two stores share this replica id (a copied store file?); this change is kept aside, make a new store with `oxpecker init`")
    }

    /// The answer to a change whose kind or entity this server does not know.
    static func unsupported(_ number: Int64) -> PushResult {
        PushResult(number: number, outcome: .rejected, reason: .unsupportedKind, message: "this server does not know the change's kind or entity")
    }

    /// The answer to a change stamped too far ahead of the server's clock; nil if it is not.
    static func clockSkew(of change: Change, policy: PushPolicy) -> PushResult? {
        guard change.hlc.wallMillis > policy.nowMillis + policy.maximumClockSkewMillis else { return nil }
        let ahead = (change.hlc.wallMillis - policy.nowMillis) / 1000
        return PushResult(
            number: change.number, outcome: .rejected, reason: .clockSkew,
            message: "the change is stamped \(ahead) s ahead of the server's clock (at most \(policy.maximumClockSkewMillis / 1000) s); fix the device clock")
    }

    /// Why a device may never push `change` whatever the state, or nil.
    static func deviceRefusal(of change: Change) -> String? {
        change.kind == .erasure || change.entity == .customer ? "erasure is an administrator's operation, not a device's" : nil
    }

    /// The refusal of a change to an erased customer.
    static func erased(_ customer: CustomerID) -> String {
        "customer '\(customer)' was erased; its changes are dropped"
    }

    /// Why the device may not push `change`, or nil if it may: the customer must
    /// be in one of the device's scopes (judged change by change, so a push that
    /// moves a customer out of them refuses its later changes); a customer new
    /// to the server is accepted only from a change that adds it to one of them.
    /// `known`: the server has the customer; `visible`: it is in one of the device's scopes now.
    static func scopeRefusal(of change: Change, known: Bool, visible: Bool, device: DeviceIdentity) -> String? {
        let customer = change.customer
        if known {
            return visible ? nil : "customer '\(customer)' is not in this device's scopes"
        }
        if change.entity == .profile, change.field == ProfileSet.scopes.name, change.kind == .addWinsSet,
            change.value["op"]?.stringValue == "add", let scope = change.value["element"]?.stringValue, device.scopes.contains(scope)
        {
            return nil
        }
        return "customer '\(customer)' is new to the server: its first change must add it to one of this device's scopes ("
            + (device.scopes.isEmpty ? "it has none" : device.scopes.joined(separator: ", ")) + ")"
    }

    /// Whether `change` may change who sees its customer (a write of its scopes).
    static func movesScopes(_ change: Change) -> Bool {
        change.field == ProfileSet.scopes.name && change.entity == .profile
    }

    /// The time a push is received, as stored with its changes.
    static func receivedAt(_ policy: PushPolicy) -> Instant {
        Instant(millisecondsSince1970: policy.nowMillis)
    }
}
