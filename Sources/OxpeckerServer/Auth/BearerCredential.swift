import HTTPTypes
import Hummingbird

/// What an `Authorization: Bearer …` header holds, told apart by its form
/// alone: a JWT is three base64url parts joined by dots; anything else is one
/// of this server's own tokens (`oxp_…`, `oxpa_…`).
enum BearerCredential: Sendable, Hashable {
    /// A token this server made; its hash is looked up.
    case token(String)
    /// A JWT from an identity provider; its signature and claims are verified.
    case jwt(String)

    /// Longer bearer values are refused before any work (a JWT with many claims stays well under it).
    static let maximumLength = 8192

    /// The credential of `request`, or `unauthorized` when there is none or it cannot be a credential.
    static func of(_ request: Request) throws -> BearerCredential {
        guard let header = request.headers[.authorization] else {
            throw ServerError(.unauthorized, "send a token: Authorization: Bearer <token>")
        }
        return try parse(header)
    }

    static func parse(_ header: String) throws -> BearerCredential {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw ServerError(.unauthorized, "the Authorization header must be 'Bearer <token>'")
        }
        let value = parts[1].trimmingCharacters(in: .whitespaces)
        guard !value.isEmpty, value.utf8.count <= maximumLength, value.utf8.allSatisfy(isToken68) else {
            throw ServerError(.unauthorized, "the bearer token is malformed")
        }
        let segments = value.split(separator: ".", omittingEmptySubsequences: false)
        if segments.count == 3 {
            guard segments.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(isBase64URL) }) else {
                throw ServerError(.unauthorized, "the bearer token looks like a JWT but is malformed")
            }
            return .jwt(value)
        }
        return .token(value)
    }

    /// RFC 6750's `b64token` characters.
    private static func isToken68(_ byte: UInt8) -> Bool {
        isBase64URL(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "~") || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "=")
    }

    private static func isBase64URL(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
    }
}
