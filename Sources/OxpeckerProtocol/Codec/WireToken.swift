/// A value from an open set of snake_case names on the wire (an error code,
/// a push outcome, a purge reason): a newer peer may send a name this build
/// does not know, and decoding keeps it rather than failing.
///
/// Known names are static members; ``isKnown`` tells them from newer ones.
///
/// ```swift
/// let code = ErrorCode(rawValue: "upgrade_required")
/// code == .upgradeRequired   // true
/// ```
public protocol WireToken: RawRepresentable, Hashable, Sendable, CustomStringConvertible
where RawValue == String {
    /// Every name this build knows, in documentation order.
    static var known: [Self] { get }
    /// Makes the token; the caller has checked ``WireTokenRule``.
    init(unchecked rawValue: String)
}

extension WireToken {
    /// Whether this build knows the name.
    public var isKnown: Bool { Self.known.contains(self) }

    public var description: String { rawValue }
}

/// The form of every wire token, field name and consent purpose:
/// `^[a-z][a-z0-9_]{0,63}$`.
public enum WireTokenRule {
    /// Whether `text` is a well-formed token.
    public static func accepts(_ text: String) -> Bool {
        let utf8 = text.utf8
        guard let first = utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first),
            utf8.count <= Limits.tokenCharacters
        else { return false }
        return utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_")
        }
    }
}
