import OxpeckerProtocol

/// How many outbox changes, oldest first, go into one push so that the request
/// fits both the server's `max_changes_per_push` and `max_body_bytes`.
///
/// ```swift
/// let count = try PushBatch.count(of: sizes, overhead: 40, maximumChanges: 500, maximumBytes: 8 << 20)
/// ```
enum PushBatch {
    /// The size of `{"changes":[],"replica":"R"}` for `replica`: a push's bytes
    /// are this, plus each change's canonical bytes, plus a comma between two.
    static func overhead(replica: ReplicaID) -> Int {
        WireCodec().encode(PushRequest(replica: replica, changes: [])).count
    }

    /// The length of the longest prefix of changes of `sizes` bytes that fits.
    ///
    /// - Returns: at least 1 when `sizes` is not empty.
    /// - Throws: ``SyncError/changeTooLarge(number:bytes:limit:)`` when the first change alone does not fit.
    static func count(of sizes: [Int], numbers: [Int64], overhead: Int, maximumChanges: Int, maximumBytes: Int) throws(SyncError) -> Int {
        var total = overhead
        var count = 0
        for size in sizes.prefix(max(1, maximumChanges)) {
            let added = size + (count > 0 ? 1 : 0)
            guard total + added <= maximumBytes else { break }
            total += added
            count += 1
        }
        if count == 0, let first = sizes.first {
            throw .changeTooLarge(number: numbers.first ?? 0, bytes: first + overhead, limit: maximumBytes)
        }
        return count
    }
}
