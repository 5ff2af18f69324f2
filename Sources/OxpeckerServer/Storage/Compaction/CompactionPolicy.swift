import OxpeckerProtocol

/// How long the server keeps what only a device long gone could still need:
/// the rule `oxpecker-server compact` and the server's schedule apply
/// (README, "Log compaction"; the same on both backends).
///
/// At a compaction run at `now`, with `horizon` H and `tombstoneRetention` R:
///
/// 1. **Abandoned subscriptions** go: those of a token revoked, expired or
///    deleted, and those not synced (``CompactionPolicy/lastSyncResolutionMillis``)
///    since before `now − H`, with what they hold and the answers they have not
///    confirmed. Such a device's next pull or bootstrap page is answered
///    `cursor_expired`: it clears what it holds except its unpushed changes,
///    bootstraps again, then pushes them.
/// 2. **Superseded register writes** received before `now − H` go from the log:
///    a later write of the same field is in the log, so no snapshot and no pull
///    from any cursor needs them (a snapshot never served them). A change goes
///    only once its replica's acknowledged number has passed it, so that a retry
///    of it is still answered `duplicate`. Every other change stays: note text
///    and revisions, consent history and the writes of guarded fields are the
///    record, and the removes of a set are what the stores that hold its adds need.
/// 3. **Side tables**: customers a store created by a push and recorded before
///    `now − H` are forgotten once no subscription of that store is left (its
///    next bootstrap sees them by scope); membership changes every remaining
///    subscription has reconciled past go.
/// 4. **Erasure tombstones** (the erasure record, its log entry, the state's
///    tombstone) go once the erasure is older than R and no subscription holds
///    the customer or was sent it unconfirmed. Until then every push about the
///    customer is refused. After, its id is free again, and a device that kept
///    unpushed changes of it for longer than R could only bring back the ones a
///    push takes for a new customer (one that adds it to a scope of its own):
///    R must be longer than any device stays offline. The audit trail keeps the
///    erasure for good.
public struct CompactionPolicy: Sendable, Hashable {
    /// How far back a device's sync may be and still go on from its cursor, in ms.
    public var horizonMillis: Int64
    /// How long an erasure's tombstone is kept at least, in ms.
    public var tombstoneRetentionMillis: Int64

    public init(horizonMillis: Int64 = Self.defaultHorizonMillis, tombstoneRetentionMillis: Int64 = Self.defaultTombstoneRetentionMillis) {
        self.horizonMillis = horizonMillis
        self.tombstoneRetentionMillis = tombstoneRetentionMillis
    }

    static let dayMillis: Int64 = 86_400_000
    /// 90 days.
    public static let defaultHorizonMillis: Int64 = 90 * dayMillis
    /// 400 days: longer than a year away.
    public static let defaultTombstoneRetentionMillis: Int64 = 400 * dayMillis

    /// A pull that confirms nothing records the device's sync at most this often (a day):
    /// it stays a read otherwise. So "not synced since" is known to a day.
    public static let lastSyncResolutionMillis: Int64 = dayMillis

    /// The instant before which a device's last sync makes it abandoned.
    public func horizon(at now: Instant) -> Instant {
        Instant(millisecondsSince1970: now.millisecondsSince1970 - horizonMillis)
    }

    /// The instant before which an erasure's tombstone may go.
    public func tombstoneLimit(at now: Instant) -> Instant {
        Instant(millisecondsSince1970: now.millisecondsSince1970 - tombstoneRetentionMillis)
    }

    /// Whether a subscription last seen at `seen` must be recorded as seen at `now`.
    static func isStale(_ seen: Instant?, at now: Instant) -> Bool {
        guard let seen else { return true }
        return now.millisecondsSince1970 - seen.millisecondsSince1970 >= lastSyncResolutionMillis
    }
}

/// What a compaction removed, and what is left.
public struct CompactionReport: Sendable, Hashable {
    /// Syncs before this instant are behind the horizon.
    public var horizon: Instant
    public var removedSubscriptions: Int
    public var removedChanges: Int
    public var removedPushedCustomers: Int
    public var removedMembershipChanges: Int
    public var removedTombstones: Int
    /// The changes the log holds after the run.
    public var logChanges: Int

    public init(
        horizon: Instant, removedSubscriptions: Int = 0, removedChanges: Int = 0, removedPushedCustomers: Int = 0,
        removedMembershipChanges: Int = 0, removedTombstones: Int = 0, logChanges: Int = 0
    ) {
        self.horizon = horizon
        self.removedSubscriptions = removedSubscriptions
        self.removedChanges = removedChanges
        self.removedPushedCustomers = removedPushedCustomers
        self.removedMembershipChanges = removedMembershipChanges
        self.removedTombstones = removedTombstones
        self.logChanges = logChanges
    }

    /// One line for an operator.
    public var summary: String {
        "horizon \(horizon): removed \(removedChanges) superseded changes, \(removedSubscriptions) abandoned subscriptions, "
            + "\(removedPushedCustomers) pushed-customer records, \(removedMembershipChanges) membership changes, "
            + "\(removedTombstones) erasure tombstones; the log holds \(logChanges) changes"
    }
}
