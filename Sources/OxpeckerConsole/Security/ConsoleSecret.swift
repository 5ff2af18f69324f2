/// A random secret: the start URL's key, a session id, a CSRF token.
/// 32 bytes from the system's cryptographic generator, as 64 hex digits.
///
/// ```swift
/// let secret = ConsoleSecret.random()
/// secret.matches(presented)   // compared in constant time
/// ```
public struct ConsoleSecret: Sendable, Hashable, CustomStringConvertible {
    /// The secret as 64 lowercase hex digits.
    public let text: String

    /// A secret given by the caller (tests); it must be at least 32 characters of `0-9 a-z A-Z`.
    public init?(_ text: String) {
        guard text.count >= 32, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return nil }
        self.text = text
    }

    private init(unchecked text: String) { self.text = text }

    /// A new secret from `SystemRandomNumberGenerator` (getrandom on Linux).
    public static func random() -> ConsoleSecret {
        var generator = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef")
        var text = ""
        text.reserveCapacity(64)
        for _ in 0..<32 {
            let byte = UInt8.random(in: 0...255, using: &generator)
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0f)])
        }
        return ConsoleSecret(unchecked: text)
    }

    /// Whether `presented` is this secret, compared in time that does not depend on where they differ.
    public func matches(_ presented: some StringProtocol) -> Bool {
        let expected = Array(text.utf8)
        let given = Array(presented.utf8)
        var difference = UInt8(expected.count == given.count ? 0 : 1)
        for index in 0..<expected.count {
            difference |= expected[index] ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0
    }

    /// Never the secret itself: a description may end up in a log.
    public var description: String { "ConsoleSecret(…)" }
}
