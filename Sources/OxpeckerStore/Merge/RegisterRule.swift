import OxpeckerProtocol

/// The register rule, pure: of two writes to one field, the one with the later
/// hybrid timestamp wins. Timestamps never tie (the replica id orders them), so
/// the result does not depend on the order writes arrive in.
///
/// ``CustomerState`` merges registers by it; the sync servers, which keep every
/// write in their log, mark by it the writes a snapshot no longer serves.
public enum RegisterRule {
    /// Whether a write stamped `incoming` replaces one stamped `current`.
    public static func wins(_ incoming: HybridTimestamp, over current: HybridTimestamp) -> Bool {
        incoming > current
    }

    /// The write that stays: `incoming` if it is later than `current`, else `current`.
    public static func merge(current: StampedValue?, incoming: StampedValue) -> StampedValue {
        guard let current else { return incoming }
        return wins(incoming.hlc, over: current.hlc) ? incoming : current
    }

    /// A register's live writes split by a new write stamped `incoming`: those it
    /// replaces, and those that stand (later than it; then the new write is the one replaced).
    public static func partition<Write>(
        _ live: [Write], against incoming: HybridTimestamp, stamp: (Write) throws -> HybridTimestamp
    ) rethrows -> (replaced: [Write], standing: [Write]) {
        var replaced: [Write] = []
        var standing: [Write] = []
        for write in live {
            if wins(incoming, over: try stamp(write)) { replaced.append(write) } else { standing.append(write) }
        }
        return (replaced, standing)
    }
}
