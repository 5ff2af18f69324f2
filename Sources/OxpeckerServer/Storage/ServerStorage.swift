import OxpeckerProtocol
import OxpeckerStore

/// The device a request comes from, as its token (or its verified JWT) says.
public struct DeviceIdentity: Sendable, Hashable {
    /// The token's id (not the secret); `jwt:<subject>` for a JWT caller.
    public let tokenID: String
    /// The device's name, given when the token was made; a JWT's subject.
    public let name: String
    /// The scopes the token grants: the device sees, and may write, only the
    /// customers in at least one of them.
    public let scopes: [String]

    public init(tokenID: String, name: String, scopes: [String]) {
        self.tokenID = tokenID
        self.name = name
        self.scopes = scopes
    }

    /// The prefix of a JWT caller's ``tokenID``; this server's own token ids never start with it.
    static let jwtPrefix = "jwt:"

    /// Whether the device is a JWT caller (its id holds the JWT's subject, which may be personal data).
    public var isJWTCaller: Bool { tokenID.hasPrefix(Self.jwtPrefix) }
}

/// What a stored token lets its holder do. The two kinds live apart: a device
/// token never opens an admin endpoint, an admin token never syncs.
public enum TokenKind: String, Sendable, Hashable, CaseIterable {
    /// Syncs one device: hello, push, pull and bootstrap, within its scopes.
    case device
    /// Calls the admin endpoints (`/v1/admin/…`).
    case admin
}

/// A bearer token just made: the secret is shown once and stored only as a hash.
public struct IssuedToken: Sendable, Hashable {
    public let id: String
    public let secret: String
}

/// A token as stored and listed for an administrator: never the secret.
public struct TokenRecord: Sendable, Hashable {
    public let id: String
    public let kind: TokenKind
    public let name: String
    public let scopes: [String]
    public let createdAt: Instant
    public let expiresAt: Instant?
    public let revokedAt: Instant?

    public init(
        id: String, kind: TokenKind, name: String, scopes: [String], createdAt: Instant, expiresAt: Instant?, revokedAt: Instant?
    ) {
        self.id = id
        self.kind = kind
        self.name = name
        self.scopes = scopes
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }

    /// Whether the token is past its expiry at `instant`.
    public func isExpired(at instant: Instant) -> Bool {
        expiresAt.map { $0 <= instant } ?? false
    }
}

/// A page of the change log for one device: canonical change bodies in log
/// order, of the customers in the device's scopes, and the customers it must purge.
public struct LogPage: Sendable, Hashable {
    /// Each change's canonical wire JSON.
    public let changes: [String]
    /// Customers the device must remove, applied after the changes.
    public let purges: [PurgeNotice]
    /// The cursor to send with the next pull.
    public let nextCursor: SyncCursor
    public let hasMore: Bool

    public init(changes: [String], purges: [PurgeNotice], nextCursor: SyncCursor, hasMore: Bool) {
        self.changes = changes
        self.purges = purges
        self.nextCursor = nextCursor
        self.hasMore = hasMore
    }
}

/// One customer of a snapshot: the changes that make up its current state.
public struct SnapshotCustomer: Sendable, Hashable {
    public let customer: CustomerID
    public let scopes: [String]
    public let changes: [String]

    public init(customer: CustomerID, scopes: [String], changes: [String]) {
        self.customer = customer
        self.scopes = scopes
        self.changes = changes
    }
}

/// A page of a snapshot.
public struct SnapshotPage: Sendable, Hashable {
    public let customers: [SnapshotCustomer]
    /// The token of the next page; nil on the last page.
    public let nextPage: SyncCursor?
    /// Where to pull from once every page is stored.
    public let resumeCursor: SyncCursor

    public init(customers: [SnapshotCustomer], nextPage: SyncCursor?, resumeCursor: SyncCursor) {
        self.customers = customers
        self.nextPage = nextPage
        self.resumeCursor = resumeCursor
    }
}

extension SnapshotPage {
    /// Page `customers` of the snapshot `cursor` continues, recorded as answer
    /// `seq`: with the next page's token after its last customer when `more`,
    /// and the cursor to pull from once every page is stored.
    init(customers: [SnapshotCustomer], of cursor: FeedCursor.SnapshotCursor, seq: Int64, more: Bool) {
        let next = FeedCursor.SnapshotCursor(
            position: cursor.position, subscription: cursor.subscription, seq: seq, after: customers.last?.customer ?? CustomerID(unchecked: ""))
        self.init(
            customers: customers, nextPage: more ? FeedCursor.snapshot(next).cursor : nil,
            resumeCursor: FeedCursor.log(FeedCursor.LogCursor(position: cursor.position, subscription: cursor.subscription, seq: seq)).cursor)
    }
}

/// How a push is judged.
public struct PushPolicy: Sendable {
    /// The server's clock now, in ms since 1970.
    public let nowMillis: Int64
    /// How far ahead of `nowMillis` a change's HLC may be.
    public let maximumClockSkewMillis: Int64

    public init(nowMillis: Int64, maximumClockSkewMillis: Int64) {
        self.nowMillis = nowMillis
        self.maximumClockSkewMillis = maximumClockSkewMillis
    }
}

/// Where the server keeps its change log, its materialized state and its tokens.
///
/// The log's visible order must never let a puller skip a change: a change
/// visible at position P must never be followed, later, by one appearing
/// below P. The embedded SQLite backend gets this from SQLite's single writer
/// (positions are assigned inside the write transaction, so commit order is
/// position order); a backend with concurrent writers must add a mechanism
/// (PostgreSQL: positions taken in transaction id order, and only the rows of
/// transactions older than every one in flight read, see `PostgresServerStorage.push`).
/// Both judge pushes by ``PushRules``.
///
/// A backend whose database is away throws `ServerError(.storageUnavailable, …)`
/// (HTTP 503) and recovers by itself when the database is back.
public protocol ServerStorage: Sendable {
    /// The server's own replica id.
    var replica: ReplicaID { get }
    /// The token, of either kind, whose secret hashes to `tokenHash`, revoked and
    /// expired ones included (the caller tells the holder which it is); nil if none.
    func token(forHash tokenHash: String) async throws -> TokenRecord?
    /// Stores a push in one transaction: new changes are merged into the state and appended to the log.
    func push(_ request: PushRequest, from device: DeviceIdentity, policy: PushPolicy) async throws -> PushResponse
    /// The next page for `device` after `cursor` (nil: the log from its start,
    /// for the customers in the device's scopes now), by the rules of
    /// `Protocol/README.md` ("Scopes"): customers that left the device's scopes
    /// are purged, customers that entered it are sent whole, then the log
    /// follows, filtered to the customers the device holds, without the changes
    /// of `replica` (the pulling store's own; nil: all). Throws
    /// ``ServerError`` `cursor_expired` for a cursor it does not know.
    func pull(after cursor: SyncCursor?, limit: Int, for device: DeviceIdentity, replica: ReplicaID?, at now: Instant) async throws -> LogPage
    /// A page of the current state of the customers in the device's scopes
    /// (`page` nil: start a new snapshot, which makes a new subscription; the
    /// device's earlier subscriptions of the same `replica` are forgotten).
    func snapshot(page: SyncCursor?, limit: Int, for device: DeviceIdentity, replica: ReplicaID?, at now: Instant) async throws -> SnapshotPage
    /// Makes a token of `kind` (an admin token has no scopes).
    func createToken(_ kind: TokenKind, name: String, scopes: [String], expiresAt: Instant?, now: Instant) async throws -> IssuedToken
    /// Every token of `kind`, newest first.
    func tokens(_ kind: TokenKind) async throws -> [TokenRecord]
    /// Replaces a token's scopes; false if there is no such token. The device's
    /// next pull purges the customers it no longer sees and sends those it now sees.
    func setTokenScopes(id: String, scopes: [String], at: Instant) async throws -> Bool
    /// Revokes a token of either kind; false if there is no such token, or it was revoked already.
    /// `actor` is recorded in the audit trail: an admin token's id, or `admin` for the server's operator.
    func revokeToken(id: String, by actor: String, at: Instant) async throws -> Bool
    /// Erases a customer (right to erasure): every trace of its personal data
    /// leaves the state and the log; a tombstone with no personal data stays, so
    /// that no device can bring it back (its later pushes get `customer_erased`);
    /// every device holding it purges it at its next sync. Erasing it again
    /// changes nothing. Throws ``ErasureError/unknownCustomer(_:)``.
    func eraseCustomer(_ customer: CustomerID, by actor: String, at now: Instant) async throws -> ErasureStatus
    /// Where the erasure of `customer` stands, with the devices that have not
    /// confirmed the purge; nil if it was not erased.
    func erasureStatus(of customer: CustomerID) async throws -> ErasureStatus?
    /// The audit trail of a customer or of a device, oldest first, at most `limit` events.
    /// Unrecorded: administrators read it through ``readAuditTrail(_:limit:by:at:)``, which records the reading.
    func auditTrail(_ query: AuditQuery, limit: Int) async throws -> [AuditEvent]
    /// Appends an event to the audit trail: an administrator's reading (of the trail, an
    /// erasure's status, the tokens, the state), recorded before what was read is shown.
    func recordAccess(_ action: AuditEvent.Action, by actor: String, customer: CustomerID?, token: String?, detail: String?, at: Instant) async throws
    /// Applies the log compaction rule (``CompactionPolicy``) as of `now`, while the server
    /// runs: abandoned subscriptions, superseded register writes behind the horizon, side
    /// tables and old tombstones go, in short transactions (pushes and pulls go on between).
    func compact(_ policy: CompactionPolicy, at now: Instant) async throws -> CompactionReport
    /// The server's materialized state, as canonical JSON (the same form as a device's export).
    func exportState() async throws -> String
    /// The key that seals the cursors handed to devices (``CursorSeal``): 32 random bytes made
    /// once with the storage, kept in it, the same for every server instance that shares it.
    func cursorKey() async throws -> [UInt8]
    /// Throws unless the storage answers a query now (readiness: `GET /ready`). Cheap: called by probes every few seconds.
    func checkReady() async throws
    /// Log size, log head, open conflicts, pending purges (the gauges of `GET /metrics`).
    func statistics() async throws -> StorageStatistics
}

extension ServerStorage {
    /// Makes a device token.
    public func createToken(name: String, scopes: [String], expiresAt: Instant?, now: Instant) async throws -> IssuedToken {
        try await createToken(.device, name: name, scopes: scopes, expiresAt: expiresAt, now: now)
    }

    /// Every device token, newest first.
    public func tokens() async throws -> [TokenRecord] {
        try await tokens(.device)
    }

    /// Revokes a token as the server's operator (`oxpecker-server token revoke`).
    public func revokeToken(id: String, at: Instant) async throws -> Bool {
        try await revokeToken(id: id, by: "admin", at: at)
    }
}
