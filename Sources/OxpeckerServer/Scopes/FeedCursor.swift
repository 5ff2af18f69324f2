import Foundation
import OxpeckerProtocol

/// The server's cursors and page tokens: opaque to clients, parsed only here,
/// the same for every storage backend.
///
/// Every cursor names the device's **subscription** (one per bootstrapped
/// store, see `Protocol/README.md`, "Scopes") and the last answer the device
/// stored (`seq`): sending it back confirms that answer, which is how the
/// server learns which customers the device holds.
///
/// - `log.<position>.<subscription>.<seq>`: pull after `position`.
/// - `log.<position>.<subscription>.<seq>.<through>.<customer>`: the same, while a
///   customer that entered the device's scopes is being sent: its current state
///   up to log position `through` has been sent.
/// - `snap.<position>.<subscription>.<seq>.<after>`: the next bootstrap page, customers after `after`.
///
/// A customer id may hold `:`, which a cursor may not: it travels as `~`.
public enum FeedCursor: Hashable, Sendable {
    /// A pull cursor.
    case log(LogCursor)
    /// A bootstrap page token.
    case snapshot(SnapshotCursor)

    /// Where a device stands in the log.
    public struct LogCursor: Hashable, Sendable {
        /// The device holds every change of its customers up to here.
        public var position: Int64
        public var subscription: Int64
        /// The last answer the device stored.
        public var seq: Int64
        /// A customer entering the device's scopes, sent up to this log position so far.
        public var entering: EnteringCustomer?

        public init(position: Int64, subscription: Int64, seq: Int64, entering: EnteringCustomer? = nil) {
            self.position = position
            self.subscription = subscription
            self.seq = seq
            self.entering = entering
        }
    }

    /// A customer whose state is being sent over several pages.
    public struct EnteringCustomer: Hashable, Sendable {
        public var customer: CustomerID
        /// The state's changes up to this log position have been sent.
        public var through: Int64

        public init(customer: CustomerID, through: Int64) {
            self.customer = customer
            self.through = through
        }
    }

    /// Where a bootstrap stands.
    public struct SnapshotCursor: Hashable, Sendable {
        /// The log position the snapshot is taken at.
        public var position: Int64
        public var subscription: Int64
        public var seq: Int64
        /// The last customer sent.
        public var after: CustomerID

        public init(position: Int64, subscription: Int64, seq: Int64, after: CustomerID) {
            self.position = position
            self.subscription = subscription
            self.seq = seq
            self.after = after
        }
    }

    /// The cursor's text.
    public var cursor: SyncCursor {
        let text: String
        switch self {
        case .log(let log):
            var parts = "log.\(log.position).\(log.subscription).\(log.seq)"
            if let entering = log.entering { parts += ".\(entering.through).\(Self.escape(entering.customer))" }
            text = parts
        case .snapshot(let snapshot):
            text = "snap.\(snapshot.position).\(snapshot.subscription).\(snapshot.seq).\(Self.escape(snapshot.after))"
        }
        // Every part is digits or an escaped identifier (at most 64 characters): always a valid cursor.
        return SyncCursor(text)!
    }

    /// Reads a cursor this server made; `cursor_expired` for anything else
    /// (another server's, an older version's, a damaged one).
    public init(parsing cursor: SyncCursor) throws(ServerError) {
        let text = cursor.rawValue
        let expired = ServerError(.cursorExpired, "this server does not know the cursor '\(text)'; bootstrap again")
        let parts = text.split(separator: ".", maxSplits: 5, omittingEmptySubsequences: false).map(String.init)
        func number(_ index: Int) throws(ServerError) -> Int64 {
            guard index < parts.count, let value = Int64(parts[index]), value >= 0, String(value) == parts[index] else { throw expired }
            return value
        }
        func customer(_ index: Int) throws(ServerError) -> CustomerID {
            guard index < parts.count, let id = CustomerID(rawValue: Self.unescape(parts[index])) else { throw expired }
            return id
        }
        switch parts.first {
        case "log" where parts.count == 4:
            self = .log(LogCursor(position: try number(1), subscription: try number(2), seq: try number(3)))
        case "log" where parts.count == 6:
            let entering = EnteringCustomer(customer: try customer(5), through: try number(4))
            self = .log(LogCursor(position: try number(1), subscription: try number(2), seq: try number(3), entering: entering))
        case "snap":
            // The customer may hold dots: everything after the fourth dot is the customer.
            let snap = text.split(separator: ".", maxSplits: 4, omittingEmptySubsequences: false).map(String.init)
            guard snap.count == 5, let after = CustomerID(rawValue: Self.unescape(snap[4])) else { throw expired }
            let numbers = snap[1...3].map { Int64($0) }
            guard let position = numbers[0], let subscription = numbers[1], let seq = numbers[2] else { throw expired }
            self = .snapshot(SnapshotCursor(position: position, subscription: subscription, seq: seq, after: after))
        default:
            throw expired
        }
    }

    /// A pull cursor, or `cursor_expired`.
    public static func log(parsing cursor: SyncCursor) throws(ServerError) -> LogCursor {
        guard case .log(let log) = try FeedCursor(parsing: cursor) else {
            throw ServerError(.cursorExpired, "'\(cursor.rawValue)' is a bootstrap page, not a pull cursor")
        }
        return log
    }

    /// A bootstrap page token, or `cursor_expired`.
    public static func snapshot(parsing cursor: SyncCursor) throws(ServerError) -> SnapshotCursor {
        guard case .snapshot(let snapshot) = try FeedCursor(parsing: cursor) else {
            throw ServerError(.cursorExpired, "'\(cursor.rawValue)' is a pull cursor, not a bootstrap page; start the bootstrap again")
        }
        return snapshot
    }

    private static func escape(_ customer: CustomerID) -> String {
        customer.rawValue.replacingOccurrences(of: ":", with: "~")
    }

    private static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "~", with: ":")
    }
}
