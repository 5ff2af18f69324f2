extension StoreWriter {
    /// The store's sync checkpoint as this write transaction sees it, so a sync
    /// client can change one member and save it back in the same transaction.
    ///
    /// ```swift
    /// try await store.write { w in
    ///     var checkpoint = try w.syncCheckpoint()
    ///     checkpoint.pullCursor = next.rawValue
    ///     try w.saveCheckpoint(checkpoint)
    /// }
    /// ```
    public func syncCheckpoint() throws -> SyncCheckpoint {
        try StoreReader(db: db).syncCheckpoint()
    }
}
