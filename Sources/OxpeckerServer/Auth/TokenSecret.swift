import Crypto
import Foundation

/// Bearer token secrets: random, shown once, stored only as a SHA-256 hash.
///
/// The prefix tells the kinds apart at a glance (in a log, a leaked file, a
/// secret scanner): `oxp_` for a device, `oxpa_` for an administrator.
enum TokenSecret {
    /// A new secret: the kind's prefix and 32 random bytes in base64url (43 characters).
    static func make(_ kind: TokenKind) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let text = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return prefix(of: kind) + text
    }

    /// `oxp_` or `oxpa_`.
    static func prefix(of kind: TokenKind) -> String {
        switch kind {
        case .device: "oxp_"
        case .admin: "oxpa_"
        }
    }

    /// The hash stored for `secret`, lowercase hex.
    static func hash(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }

    /// A short random id for a token record: `tok-…` for a device, `adm-…` for an administrator.
    static func makeID(_ kind: TokenKind) -> String {
        (kind == .device ? "tok-" : "adm-") + UUID().uuidString.lowercased().prefix(13).replacingOccurrences(of: "-", with: "")
    }
}
