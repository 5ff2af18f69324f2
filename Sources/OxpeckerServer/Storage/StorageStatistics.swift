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

    public init(logChanges: Int, logHead: Int64, openConflicts: Int, purgesPending: Int) {
        self.logChanges = logChanges
        self.logHead = logHead
        self.openConflicts = openConflicts
        self.purgesPending = purgesPending
    }
}
