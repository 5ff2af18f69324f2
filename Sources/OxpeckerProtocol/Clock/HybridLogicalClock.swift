/// The hybrid logical clock of one replica: hands out timestamps that only ever
/// grow, even when the wall clock stalls or goes backwards.
///
/// A pure value: the wall-clock reading is passed in, so tests drive it.
/// It keeps its largest reading, so a wall clock that ran ahead and was put
/// right leaves it ahead: ``ClockRecovery`` moves a replica back.
///
/// ```swift
/// var clock = HybridLogicalClock(replica: id, last: nil)
/// let stamp = clock.next(wallMillis: 1_732_462_312_123)
/// ```
public struct HybridLogicalClock: Sendable, Hashable {
    /// The replica whose timestamps this clock makes.
    public let replica: ReplicaID
    /// The latest timestamp made or observed; every next one is greater.
    public private(set) var last: HybridTimestamp?

    /// A clock that continues after `last` (nil for a new replica).
    public init(replica: ReplicaID, last: HybridTimestamp?) {
        self.replica = replica
        self.last = last
    }

    /// The next timestamp for a local event at wall-clock time `wallMillis`.
    public mutating func next(wallMillis: Int64) -> HybridTimestamp {
        let now = min(max(wallMillis, 0), HybridTimestamp.maximumWallMillis)
        let stamp: HybridTimestamp
        if let last, last.wallMillis >= now {
            stamp = Self.after(wall: last.wallMillis, counter: last.counter, replica: replica)
        } else {
            stamp = HybridTimestamp(unchecked: now, counter: 0, replica: replica)
        }
        last = stamp
        return stamp
    }

    /// Takes in a timestamp received from another replica so that every later
    /// local timestamp is greater than it.
    public mutating func observe(_ remote: HybridTimestamp) {
        guard let last else {
            self.last = HybridTimestamp(unchecked: remote.wallMillis, counter: remote.counter, replica: replica)
            return
        }
        if remote.wallMillis > last.wallMillis
            || (remote.wallMillis == last.wallMillis && remote.counter > last.counter)
        {
            self.last = HybridTimestamp(unchecked: remote.wallMillis, counter: remote.counter, replica: replica)
        }
    }

    private static func after(wall: Int64, counter: UInt32, replica: ReplicaID) -> HybridTimestamp {
        if counter < HybridTimestamp.maximumCounter {
            return HybridTimestamp(unchecked: wall, counter: counter + 1, replica: replica)
        }
        // A million events in one millisecond: borrow the next millisecond rather than wrap.
        return HybridTimestamp(unchecked: min(wall + 1, HybridTimestamp.maximumWallMillis), counter: 0, replica: replica)
    }
}
