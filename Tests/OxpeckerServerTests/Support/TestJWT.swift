import Foundation
import JWTKit
import OxpeckerServer

/// The claims of a JWT made by a test, as a bank's identity provider would
/// issue them; nil members are left out.
struct TestClaims: JWTPayload {
    var iss: String? = TestIdentityProvider.issuer
    var aud: String? = TestIdentityProvider.audience
    var sub: String? = "mobile-backend-7"
    /// Seconds since 1970.
    var exp: Int64? = TestIdentityProvider.nowSeconds + 3600
    var nbf: Int64? = nil
    var scopes: [String]? = [testScope]

    enum CodingKeys: String, CodingKey {
        case iss, aud, sub, exp, nbf
        case scopes = "oxpecker_scopes"
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// An identity provider of a test: its signing keys, and the server settings that trust it.
struct TestIdentityProvider: Sendable {
    static let issuer = "https://idp.example-bank.test"
    static let audience = "oxpecker-sync"
    /// The harness's clock, in seconds.
    static let nowSeconds: Int64 = 1_764_000_000

    let key = ES256PrivateKey()

    /// Settings that trust this provider's public key (as a PEM).
    var settings: JWTSettings {
        JWTSettings(issuer: Self.issuer, audience: Self.audience, publicKeysPEM: [key.publicKey.pemRepresentation])
    }

    /// A JWT with `claims`, signed with this provider's key.
    func sign(_ claims: TestClaims = TestClaims(), kid: String? = nil) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: key)
        return try await keys.sign(claims, kid: kid.map { JWKIdentifier(string: $0) })
    }

    /// This provider's public key as a JSON Web Key Set with key id `kid`.
    func jwks(kid: String) throws -> String {
        let parameters = try require2(key.publicKey.parameters)
        return #"{"keys":[{"kty":"EC","crv":"P-256","use":"sig","alg":"ES256","kid":"\#(kid)","x":"\#(parameters.x)","y":"\#(parameters.y)"}]}"#
    }

    /// A JWT signed with HS256 and `secret`.
    static func signHS256(_ claims: TestClaims = TestClaims(), secret: String) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return try await keys.sign(claims)
    }

    /// A JWT with `"alg": "none"` and no signature.
    static func unsigned(_ claims: TestClaims = TestClaims()) throws -> String {
        func part(_ data: Data) -> String {
            data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
        return part(Data(#"{"alg":"none","typ":"JWT"}"#.utf8)) + "." + part(try JSONEncoder().encode(claims)) + ".c2ln"
    }
}

/// Unwraps outside of a test function's macro context.
private func require2<T>(_ value: T?) throws -> T {
    guard let value else { throw CocoaError(.coderValueNotFound) }
    return value
}
