/// A position in the server's change log, or in a snapshot: opaque to the
/// client, which stores it and sends it back. 1 to 512 of `A–Z a–z 0–9 . _ ~ -`.
///
/// ```swift
/// let next = PullRequest(after: checkpoint.cursor, limit: 500)
/// ```
public struct SyncCursor: Hashable, Sendable, CustomStringConvertible {
    /// The cursor's text.
    public let rawValue: String

    /// Makes a cursor, or nil if `rawValue` is not one.
    public init?(_ rawValue: String) {
        guard Self.accepts(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// Whether `text` has the form of a cursor.
    public static func accepts(_ text: String) -> Bool {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= Limits.cursorCharacters else { return false }
        return utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
    }

    public var description: String { rawValue }
}

extension WireValue {
    /// A cursor or page token.
    public func cursor() throws(WireError) -> SyncCursor {
        let text = try string(maximum: Limits.cursorCharacters)
        guard let cursor = SyncCursor(text) else {
            throw WireError(.invalidValue, "'\(text)' is not a cursor (1 to 512 of A-Z a-z 0-9 . _ ~ -)", at: pointer)
        }
        return cursor
    }
}
