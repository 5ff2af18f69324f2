import OxpeckerProtocol

/// What the storage holds now, for the operators' gauges on `/metrics`.
public struct StorageStatistics: Sendable, Hashable {
    /// How many changes the log holds.
    public var logChanges: Int
    /// The position of the newest change in the log (0 when empty): a device's lag is this minus where it pulled to.
    public var logHead: Int64
    /// Guarded fields with concurrent writes waiting for a person to choose.
    public var openConflicts: Int
    /// Purges of erased customers not yet confirmed: one per customer and device
    /// (subscription) that may still hold it (as `oxpecker-server customer erase-status` lists them).
    public var purgesPending: Int
    /// The horizon of the last log compaction (``CompactionPolicy``); nil if none ran.
    public var horizon: Instant?
    /// The subscriptions kept (one per bootstrapped store not abandoned).
    public var subscriptions: Int

    public init(logChanges: Int, logHead: Int64, openConflicts: Int, purgesPending: Int, horizon: Instant? = nil, subscriptions: Int = 0) {
        self.logChanges = logChanges
        self.logHead = logHead
        self.openConflicts = openConflicts
        self.purgesPending = purgesPending
        self.horizon = horizon
        self.subscriptions = subscriptions
    }
}
