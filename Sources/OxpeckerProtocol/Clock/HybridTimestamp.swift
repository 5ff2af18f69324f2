/// A hybrid logical clock reading: wall-clock milliseconds, a counter for events
/// within the same millisecond, and the replica that made it.
///
/// Timestamps are totally ordered (wall, then counter, then replica id), so a
/// later write can always be told from an earlier one and ties never happen.
/// On the wire and in storage a timestamp is one fixed-width string whose
/// byte order is its time order:
///
/// ```
/// 001732462312123-000042-9f1c…   wall ms (15 digits) - counter (6 digits) - replica
/// ```
public struct HybridTimestamp: Hashable, Comparable, Sendable, TextCodable {
    /// The largest wall-clock value representable (15 decimal digits: year 33658).
    public static let maximumWallMillis: Int64 = 999_999_999_999_999
    /// The largest counter value; the clock moves its wall value on when it is reached.
    public static let maximumCounter: UInt32 = 999_999

    /// Milliseconds since 1970-01-01T00:00:00Z, as the clock saw them.
    public let wallMillis: Int64
    /// Orders events that share `wallMillis`.
    public let counter: UInt32
    /// The replica that made the timestamp: breaks ties between replicas.
    public let replica: ReplicaID

    /// Makes a timestamp; `wallMillis` and `counter` must be within their maximums.
    public init(wallMillis: Int64, counter: UInt32, replica: ReplicaID) throws(ProtocolError) {
        guard (0...Self.maximumWallMillis).contains(wallMillis), counter <= Self.maximumCounter else {
            throw .invalidTimestamp("\(wallMillis)-\(counter)-\(replica)")
        }
        self.wallMillis = wallMillis
        self.counter = counter
        self.replica = replica
    }

    init(unchecked wallMillis: Int64, counter: UInt32, replica: ReplicaID) {
        self.wallMillis = wallMillis
        self.counter = counter
        self.replica = replica
    }

    /// Parses the fixed-width string form.
    public init(parsing text: String) throws(ProtocolError) {
        let bytes = Array(text.utf8)
        // 15 digits, '-', 6 digits, '-', replica
        guard bytes.count > 23, bytes[15] == UInt8(ascii: "-"), bytes[22] == UInt8(ascii: "-") else {
            throw .invalidTimestamp(text)
        }
        var wall: Int64 = 0
        for byte in bytes[0..<15] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { throw .invalidTimestamp(text) }
            wall = wall * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        var counter: UInt32 = 0
        for byte in bytes[16..<22] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { throw .invalidTimestamp(text) }
            counter = counter * 10 + UInt32(byte - UInt8(ascii: "0"))
        }
        let replicaText = String(decoding: bytes[23...], as: UTF8.self)
        guard let replica = ReplicaID(rawValue: replicaText) else { throw .invalidTimestamp(text) }
        self.init(unchecked: wall, counter: counter, replica: replica)
    }

    /// The fixed-width string form, whose byte order is the time order.
    public var description: String {
        // Written byte by byte into one string: this is on every write's path.
        guard (0...Self.maximumWallMillis).contains(wallMillis), counter <= Self.maximumCounter else {
            return "\(wallMillis)-\(counter)-\(replica.rawValue)"  // unreachable: the initializers keep both in range
        }
        var replicaText = replica.rawValue
        return replicaText.withUTF8 { replicaBytes in
            String(unsafeUninitializedCapacity: 23 + replicaBytes.count) { buffer in
                var wall = wallMillis
                for index in stride(from: 14, through: 0, by: -1) {
                    buffer[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: wall % 10)
                    wall /= 10
                }
                buffer[15] = UInt8(ascii: "-")
                var count = counter
                for index in stride(from: 21, through: 16, by: -1) {
                    buffer[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: count % 10)
                    count /= 10
                }
                buffer[22] = UInt8(ascii: "-")
                for (offset, byte) in replicaBytes.enumerated() { buffer[23 + offset] = byte }
                return 23 + replicaBytes.count
            }
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        if lhs.wallMillis != rhs.wallMillis { return lhs.wallMillis < rhs.wallMillis }
        if lhs.counter != rhs.counter { return lhs.counter < rhs.counter }
        return lhs.replica.rawValue < rhs.replica.rawValue
    }
}
