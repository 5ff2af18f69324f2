import OxpeckerProtocol

/// A device that may still hold an erased customer: the server has not seen it
/// confirm the purge yet (it confirms by sending, in a later request, the
/// cursor of the page that purged the customer).
public struct UnconfirmedPurge: Sendable, Hashable {
    /// The device's token id.
    public let tokenID: String
    /// The device's name, as given when its token was made.
    public let deviceName: String
    /// The store (subscription) on that device; a token may serve several.
    public let subscription: Int64
    /// When the device last confirmed anything; nil if never.
    public let lastConfirmedAt: Instant?
    /// Whether its token is revoked (such a device can never confirm).
    public let revoked: Bool

    public init(tokenID: String, deviceName: String, subscription: Int64, lastConfirmedAt: Instant?, revoked: Bool) {
        self.tokenID = tokenID
        self.deviceName = deviceName
        self.subscription = subscription
        self.lastConfirmedAt = lastConfirmedAt
        self.revoked = revoked
    }
}

/// Where the erasure of one customer stands.
public struct ErasureStatus: Sendable, Hashable {
    public let customer: CustomerID
    /// When the server erased it.
    public let erasedAt: Instant
    /// Who asked: `admin`, or an administrator's name.
    public let erasedBy: String
    /// Changes of the customer removed from the server's log by the erasure.
    public let removedChanges: Int
    /// Devices that have not confirmed the purge yet; empty when every device has.
    public let unconfirmed: [UnconfirmedPurge]

    public init(customer: CustomerID, erasedAt: Instant, erasedBy: String, removedChanges: Int, unconfirmed: [UnconfirmedPurge]) {
        self.customer = customer
        self.erasedAt = erasedAt
        self.erasedBy = erasedBy
        self.removedChanges = removedChanges
        self.unconfirmed = unconfirmed
    }
}

/// Why an erasure was not done.
public enum ErasureError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The server has never had this customer.
    case unknownCustomer(CustomerID)

    public var description: String {
        switch self {
        case .unknownCustomer(let id): "the server has no customer '\(id)'"
        }
    }
}

extension ErasureStatus {
    /// The status as the admin endpoint writes it.
    public var json: JSONValue {
        let devices = unconfirmed.map { device -> JSONValue in
            var object: [String: JSONValue] = [
                "token": .string(device.tokenID), "device": .string(device.deviceName), "subscription": .integer(device.subscription),
                "revoked": .bool(device.revoked),
            ]
            if let confirmed = device.lastConfirmedAt { object["last_confirmed_at"] = .string(confirmed.description) }
            return .object(object)
        }
        return [
            "customer": .string(customer.rawValue), "erased_at": .string(erasedAt.description), "erased_by": .string(erasedBy),
            "removed_changes": .integer(Int64(removedChanges)), "unconfirmed": .array(devices),
        ]
    }
}
