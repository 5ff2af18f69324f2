import OxpeckerProtocol
import OxpeckerStore

/// How a pushed change is judged, the same for every backend: the pure parts
/// of a push (the backends read the state the rules need, then ask here).
///
/// In order: a change of an unknown kind is answered `unsupported_kind` (kept
/// by the device, not refused for good); a known (replica, number) is a
/// duplicate, or answers its stored refusal again; a change stamped too far
/// ahead is answered `clock_skew` (the device fixes its clock and pushes
/// again); then refused for good: an erasure from a device, a change of a
/// customer outside the device's scopes or erased (one answer that tells
/// nothing of a customer the device cannot see), an invalid one.
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
        let codec = WireCodec()
        guard stored != codec.encodeText(change) else { return nil }
        // A retry of a note or revision whose text a redaction removed since, on the server
        // (the log keeps it without) or on the device (the outbox sends it without).
        if RedactionRules.note(whoseTextIsIn: change) != nil, let logged = try? codec.decode(Change.self, from: stored),
            codec.encodeText(RedactionRules.withoutText(logged) ?? logged) == codec.encodeText(RedactionRules.withoutText(change) ?? change)
        {
            return nil
        }
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
    ///
    /// An erasure is an administrator's; the `customer` entity carries nothing else, so any
    /// other change of it is a client that took it for the way to create a customer, which
    /// is a `profile` change adding the customer to a scope (`Protocol/data-model.md`).
    static func deviceRefusal(of change: Change) -> String? {
        if change.kind == .erasure {
            return "erasure is an administrator's operation (POST /v1/admin/customers/{id}/erase), not a device's"
        }
        if change.entity == .customer {
            return "a device pushes no change of the 'customer' entity (it carries only an administrator's erasure); "
                + "a customer is created by a 'profile' change of field 'scopes' adding it to one of the device's scopes"
        }
        return nil
    }

    /// What a backend knows of a pushed change's customer, from the pushing device's side:
    /// all ``customerRefusal(of:standing:device:)`` needs.
    enum CustomerStanding: Equatable {
        /// The server has never had the customer.
        case new
        /// The customer is in one of the device's scopes now.
        case visible
        /// The customer exists and is in none of the device's scopes.
        case hidden
        /// The customer was erased; `seenByDevice`: the device's token wrote changes of it
        /// (the audit trail outlives the erasure), or a store of the token holds it (or was
        /// sent it) and has not confirmed the purge: the device may still have its data.
        case erased(seenByDevice: Bool)
    }

    /// Why the device may not push `change`, of a customer in `standing`, or nil if it may.
    ///
    /// The customer must be in one of the device's scopes (judged change by change, so a
    /// push that moves a customer out of them refuses its later changes); a customer new to
    /// the server is accepted only from a change that adds it to one of them. A device must
    /// learn nothing of a customer it cannot see: every other case gets one `out_of_scope`,
    /// word for word the same whether the customer exists in another scope, never existed, or
    /// was erased. `customer_erased` (drop the change, keep nothing) goes only to a device
    /// that saw the erased customer, which must drop what it has of it anyway. What stays
    /// visible is that an id is taken: creating a customer whose id is in use (or erased) is
    /// refused, as it must be, while a new id is accepted.
    static func customerRefusal(of change: Change, standing: CustomerStanding, device: DeviceIdentity) -> (code: ErrorCode, message: String)? {
        switch standing {
        case .visible:
            return nil
        case .erased(seenByDevice: true):
            return (.customerErased, "customer '\(change.customer)' was erased; its changes are dropped")
        case .new where addsToOwnScope(change, device: device):
            return nil
        case .new, .hidden, .erased(seenByDevice: false):
            let scopes = device.scopes.isEmpty ? "it has none" : device.scopes.sorted().joined(separator: ", ")
            return (
                .outOfScope,
                "customer '\(change.customer)' is not in this device's scopes (\(scopes)); a customer new to the server "
                    + "is taken only from a change that adds it to one of them"
            )
        }
    }

    /// Whether `change` adds its customer to one of the device's scopes: the only first change of a new customer taken.
    static func addsToOwnScope(_ change: Change, device: DeviceIdentity) -> Bool {
        guard movesScopes(change), change.kind == .addWinsSet, change.value["op"]?.stringValue == "add",
            let scope = change.value["element"]?.stringValue
        else { return false }
        return device.scopes.contains(scope)
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
