/// Why a device must remove a customer.
///
/// A reason from a newer server that this build does not know is treated
/// like `left_scopes`: the customer is purged (it can always be bootstrapped again).
public struct PurgeReason: WireToken {
    public let rawValue: String
    public init(unchecked rawValue: String) { self.rawValue = rawValue }
    /// Makes a reason from its wire name, or nil if it is not a well-formed token.
    public init?(rawValue: String) {
        guard WireTokenRule.accepts(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// The customer is no longer in any scope of the device.
    public static let leftScopes = PurgeReason(unchecked: "left_scopes")
    /// The customer was erased (right to erasure): remove every trace, keep nothing.
    public static let erased = PurgeReason(unchecked: "erased")

    public static let known: [PurgeReason] = [.leftScopes, .erased]
}

/// Tells a device to remove everything it holds about one customer: data,
/// notes, outbox entries not yet pushed for it, search index entries.
///
/// ```swift
/// for notice in page.purges { try store.purge(notice.customer) }
/// ```
public struct PurgeNotice: WireMessage {
    public static let wireName = "purge_notice"

    /// The customer to remove.
    public var customer: CustomerID
    /// Why.
    public var reason: PurgeReason
    /// When the server decided it.
    public var at: Instant

    /// Makes a notice.
    public init(customer: CustomerID, reason: PurgeReason, at: Instant) {
        self.customer = customer
        self.reason = reason
        self.at = at
    }

    public init(wire value: WireValue) throws(WireError) {
        var object = try value.object()
        customer = try object.member("customer").identifier(CustomerID.self)
        reason = try object.member("reason").token(PurgeReason.self)
        at = try object.member("at").instant()
        try object.finish()
    }

    public var wireJSON: JSONValue {
        ["customer": .string(customer.rawValue), "reason": .string(reason.rawValue), "at": .string(at.description)]
    }
}
