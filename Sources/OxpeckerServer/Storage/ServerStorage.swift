import OxpeckerProtocol
import OxpeckerStore

/// The device a request comes from, as its token says.
public struct DeviceIdentity: Sendable, Hashable {
    /// The token's id (not the secret).
    public let tokenID: String
    /// The device's name, given when the token was made.
    public let name: String
    /// The scopes the token grants (authorization comes with the scopes issue).
    public let scopes: [String]
}

/// A bearer token just made: the secret is shown once and stored only as a hash.
public struct IssuedToken: Sendable, Hashable {
    public let id: String
    public let secret: String
}

/// A token as listed for an administrator: never the secret.
public struct TokenRecord: Sendable, Hashable {
    public let id: String
    public let name: String
    public let scopes: [String]
    public let createdAt: Instant
    public let expiresAt: Instant?
    public let revokedAt: Instant?
}

/// A page of the change log: canonical change bodies in log order.
public struct LogPage: Sendable, Hashable {
    /// Each change's canonical wire JSON.
    public let changes: [String]
    /// The position after the last change of the page.
    public let nextPosition: Int64
    public let hasMore: Bool
}

/// One customer of a snapshot: the changes that make up its current state.
public struct SnapshotCustomer: Sendable, Hashable {
    public let customer: CustomerID
    public let scopes: [String]
    public let changes: [String]
}

/// A page of a snapshot.
public struct SnapshotPage: Sendable, Hashable {
    public let customers: [SnapshotCustomer]
    /// The last customer of the page, to continue after; nil on the last page.
    public let continueAfter: CustomerID?
    /// The log position the snapshot was taken at.
    public let position: Int64
}

/// How a push is judged.
public struct PushPolicy: Sendable {
    /// The server's clock now, in ms since 1970.
    public let nowMillis: Int64
    /// How far ahead of `nowMillis` a change's HLC may be.
    public let maximumClockSkewMillis: Int64
}

/// Where the server keeps its change log, its materialized state and its tokens.
///
/// The log's visible order must never let a puller skip a change: a change
/// visible at position P must never be followed, later, by one appearing
/// below P. The embedded SQLite backend gets this from SQLite's single writer
/// (positions are assigned inside the write transaction, so commit order is
/// position order); a backend with concurrent writers must add a mechanism.
public protocol ServerStorage: Sendable {
    /// The server's own replica id.
    var replica: ReplicaID { get }
    /// The device whose token hashes to `tokenHash`, if the token is valid at `at`.
    func device(forTokenHash tokenHash: String, at: Instant) async throws -> DeviceIdentity?
    /// Stores a push in one transaction: new changes are merged into the state and appended to the log.
    func push(_ request: PushRequest, from device: DeviceIdentity, policy: PushPolicy) async throws -> PushResponse
    /// Changes after `position`, in log order.
    func pull(after position: Int64, limit: Int, for device: DeviceIdentity) async throws -> LogPage
    /// A page of the current state, customers after `after`, as of log `position` (nil: now).
    func snapshot(at position: Int64?, after: CustomerID?, limit: Int, for device: DeviceIdentity) async throws -> SnapshotPage
    /// Makes a device token.
    func createToken(name: String, scopes: [String], expiresAt: Instant?, now: Instant) async throws -> IssuedToken
    /// Every token, newest first.
    func tokens() async throws -> [TokenRecord]
    /// Revokes a token; false if there is no such token.
    func revokeToken(id: String, at: Instant) async throws -> Bool
    /// The server's materialized state, as canonical JSON (the same form as a device's export).
    func exportState() async throws -> String
}
