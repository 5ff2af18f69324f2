/// How a replica whose clock ran ahead gets its changes accepted again once
/// its wall clock is fixed: pure rules over timestamps (the store applies them).
///
/// A server refuses a change stamped more than its allowance ahead of its own
/// clock (`clock_skew`). A hybrid logical clock keeps its largest reading, so
/// after a clock that ran hours ahead is corrected, every new change is still
/// stamped hours ahead and refused too. The recovery gives the unsent changes
/// stamped beyond the allowance new stamps from the server's time, in outbox
/// order and above every stamp the replica keeps, and moves the clock back to
/// the last of them (``plan(restamping:keptMaximum:clockLast:serverMillis:allowanceMillis:replica:)``).
///
/// ```swift
/// if let first = ClockRecovery.firstAhead(in: unsent, serverMillis: now, allowanceMillis: 300_000) {
///     let plan = ClockRecovery.plan(restamping: Array(unsent[first...]), keptMaximum: kept, clockLast: last,
///                                   serverMillis: now, allowanceMillis: 300_000, replica: me)
/// }
/// ```
public enum ClockRecovery {
    /// Whether a server whose clock reads `serverMillis` and allows `allowanceMillis`
    /// refuses `stamp` as too far ahead: the push rule, word for word.
    public static func isAhead(_ stamp: HybridTimestamp, serverMillis: Int64, allowanceMillis: Int64) -> Bool {
        stamp.wallMillis > limit(serverMillis: serverMillis, allowanceMillis: allowanceMillis)
    }

    /// The largest wall-clock value a server at `serverMillis` accepts.
    public static func limit(serverMillis: Int64, allowanceMillis: Int64) -> Int64 {
        let (sum, overflow) = serverMillis.addingReportingOverflow(max(allowanceMillis, 0))
        return overflow ? Int64.max : sum
    }

    /// The index of the first of `unsent` (a replica's unsent stamps in outbox order)
    /// that the server would refuse; that one and every later one are restamped, so
    /// that the outbox stays in stamp order. Nil when none is ahead.
    public static func firstAhead(in unsent: [HybridTimestamp], serverMillis: Int64, allowanceMillis: Int64) -> Int? {
        unsent.firstIndex { isAhead($0, serverMillis: serverMillis, allowanceMillis: allowanceMillis) }
    }

    /// The new stamps for `ahead` (the unsent stamps from ``firstAhead(in:serverMillis:allowanceMillis:)``
    /// on, in outbox order) and the clock's new last stamp.
    ///
    /// - Parameters:
    ///   - keptMaximum: the greatest stamp the replica keeps that is not in `ahead`: its
    ///     other unsent changes, its state (its own acknowledged changes and everyone
    ///     else's), the stamps its changes observed. Every new stamp is above it, so a
    ///     restamped change still supersedes what it superseded.
    ///   - clockLast: the clock's last stamp now.
    ///   - serverMillis: the server's time (as measured at the handshake).
    /// - Returns: ``RestampPlan/upToDate`` when neither a stamp of `ahead` nor the clock is
    ///   beyond the allowance; ``RestampPlan/blocked(by:)`` when a kept stamp is (restamping above
    ///   it would not help); else the replacements, strictly increasing, each with wall time
    ///   `serverMillis` or just above the kept maximum.
    public static func plan(
        restamping ahead: [HybridTimestamp], keptMaximum: HybridTimestamp?, clockLast: HybridTimestamp?, serverMillis: Int64,
        allowanceMillis: Int64, replica: ReplicaID
    ) -> RestampPlan {
        let clockAhead = clockLast.map { isAhead($0, serverMillis: serverMillis, allowanceMillis: allowanceMillis) } ?? false
        guard !ahead.isEmpty || clockAhead else { return .upToDate }
        if let keptMaximum, isAhead(keptMaximum, serverMillis: serverMillis, allowanceMillis: allowanceMillis) {
            return .blocked(by: keptMaximum)
        }
        var clock = HybridLogicalClock(replica: replica, last: keptMaximum)
        var replacements: [RestampPlan.Replacement] = []
        replacements.reserveCapacity(ahead.count)
        for old in ahead {
            replacements.append(RestampPlan.Replacement(old: old, new: clock.next(wallMillis: serverMillis)))
        }
        if let last = clock.last, isAhead(last, serverMillis: serverMillis, allowanceMillis: allowanceMillis) {
            // More changes than the counters of the milliseconds left below the limit can number.
            return .blocked(by: keptMaximum ?? last)
        }
        return .restamp(replacements, last: clock.last)
    }
}

/// What ``ClockRecovery`` decides for a replica.
public enum RestampPlan: Sendable, Hashable {
    /// One stamp replaced by another.
    public struct Replacement: Sendable, Hashable {
        /// The stamp the change had.
        public let old: HybridTimestamp
        /// The stamp it gets.
        public let new: HybridTimestamp

        /// Makes a replacement.
        public init(old: HybridTimestamp, new: HybridTimestamp) {
            self.old = old
            self.new = new
        }

        /// How far back the stamp moves, in milliseconds.
        public var shiftMillis: Int64 { old.wallMillis - new.wallMillis }
    }

    /// Nothing is stamped beyond the allowance: nothing to do.
    case upToDate
    /// Give the changes these stamps, in order, and set the clock's last stamp to `last`
    /// (nil: the replica keeps no stamp at all). The list may be empty: only the clock moves back.
    case restamp([Replacement], last: HybridTimestamp?)
    /// A stamp the replica keeps and may not change (another replica's, or one the server
    /// has) is itself beyond the allowance: the server's clock is behind it, and restamping
    /// cannot help until the server's time passes it.
    case blocked(by: HybridTimestamp)
}
