import Crypto
import Foundation

/// Bearer token secrets: random, shown once, stored only as a SHA-256 hash.
enum TokenSecret {
    /// A new secret: `oxp_` and 32 random bytes in base64url (43 characters).
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let text = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return "oxp_" + text
    }

    /// The hash stored for `secret`, lowercase hex.
    static func hash(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }

    /// A short random id for a token record.
    static func makeID() -> String {
        "tok-" + UUID().uuidString.lowercased().prefix(13).replacingOccurrences(of: "-", with: "")
    }
}
