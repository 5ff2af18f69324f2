import Foundation
import HummingbirdTesting
import JWTKit
import OxpeckerProtocol
import OxpeckerServer
import Testing

/// JWTs from a bank's identity provider: a good one syncs as the device of its
/// subject; a bad one is refused with 401 and a code, and nothing is stored.
@Suite("Authentication: JWTs from an identity provider")
struct JWTAuthenticationTests {
    static let now = Instant(millisecondsSince1970: TestIdentityProvider.nowSeconds * 1000)

    @Test("a JWT signed by the configured key pushes and pulls like a device token")
    func goodJWTSyncs() async throws {
        let server = try await ServerHarness.make()
        defer { server.remove() }
        let provider = TestIdentityProvider()
        let jwt = try await provider.sign()
        try await server.test(jwt: provider.settings) { client in
            let push = try await client.post("/v1/push", pushBody([try scopeChange(1), try fieldChange(2)]), token: jwt)
            #expect(push.status == .ok)
            #expect(push.json["results"]?.arrayValue?.map { $0["outcome"] } == ["accepted", "accepted"])
            let outside = try await client.post("/v1/push", pushBody([try scopeChange(3, customer: "c-2", scope: "branch:XX99")]), token: jwt)
            #expect(outside.json["results"]?.arrayValue?.first?["reason"] == "out_of_scope", "the JWT's scopes bind it")
            let pull = try await client.post("/v1/pull", #"{"limit":10}"#, token: jwt)
            #expect(pull.status == .ok)
            #expect(pull.text.contains("Jana"))
        }
        #expect(try await server.storage.logCount() == 2)
    }

    @Test("the caller of a JWT is the device named by its subject, with the scopes of the configured claim")
    func identityFromClaims() async throws {
        let provider = TestIdentityProvider()
        var settings = provider.settings
        settings.scopesClaim = "scope"
        let verifier = try await JWTVerifier(settings: settings)
        // OAuth's `scope`: one string, scopes separated by spaces.
        struct ScopeString: JWTPayload {
            var iss = TestIdentityProvider.issuer, aud = [TestIdentityProvider.audience, "other-app"], sub = "backend-2"
            var exp = TestIdentityProvider.nowSeconds + 60, scope = "branch:HN01 advisor:a-417"
            func verify(using algorithm: some JWTAlgorithm) async throws {}
        }
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: provider.key)
        let device = try await verifier.device(for: try await keys.sign(ScopeString()), at: Self.now)
        #expect(device == DeviceIdentity(tokenID: "jwt:backend-2", name: "backend-2", scopes: ["branch:HN01", "advisor:a-417"]))
    }

    @Test("a bad JWT gets 401 with its code and changes nothing", arguments: [
        ("signed by another key", "token_invalid"), ("wrong issuer", "token_invalid"), ("wrong audience", "token_invalid"),
        ("expired", "token_expired"), ("not valid yet", "token_invalid"), ("no expiry", "token_invalid"),
        ("no subject", "token_invalid"), ("no scopes claim", "token_invalid"), ("a malformed scope", "token_invalid"),
        ("alg none", "token_invalid"), ("HS256 with the public key as secret", "token_invalid"), ("tampered payload", "token_invalid"),
    ])
    func badJWT(case name: String, code: String) async throws {
        let server = try await ServerHarness.make()
        defer { server.remove() }
        let provider = TestIdentityProvider()
        let jwt = try await Self.badToken(name, provider: provider)
        try await server.test(jwt: provider.settings) { client in
            let response = try await client.post("/v1/push", pushBody([try fieldChange(1)]), token: jwt)
            #expect(response.status == .unauthorized, "\(name): \(response.text)")
            #expect(response.json["code"] == .string(code), "\(name): \(response.text)")
        }
        #expect(try await server.storage.logCount() == 0)
    }

    static func badToken(_ name: String, provider: TestIdentityProvider) async throws -> String {
        var claims = TestClaims()
        switch name {
        case "signed by another key": return try await TestIdentityProvider().sign()
        case "wrong issuer": claims.iss = "https://idp.attacker.test"
        case "wrong audience": claims.aud = "another-service"
        case "expired": claims.exp = TestIdentityProvider.nowSeconds - 120  // beyond the 60 s leeway
        case "not valid yet": claims.nbf = TestIdentityProvider.nowSeconds + 3600
        case "no expiry": claims.exp = nil
        case "no subject": claims.sub = nil
        case "no scopes claim": claims.scopes = nil
        case "a malformed scope": claims.scopes = ["branch HN01"]
        case "alg none": return try TestIdentityProvider.unsigned()
        case "HS256 with the public key as secret":
            return try await TestIdentityProvider.signHS256(secret: provider.key.publicKey.pemRepresentation)
        case "tampered payload":
            let parts = try await provider.sign().split(separator: ".")
            claims.scopes = ["branch:HN01", "branch:HN02"]
            let forged = try await TestIdentityProvider().sign(claims).split(separator: ".")
            return [parts[0], forged[1], parts[2]].joined(separator: ".")
        default: Issue.record("unknown case \(name)")
        }
        return try await provider.sign(claims)
    }

    @Test("keys from a JWKS file (chosen by kid) and an HS256 secret verify too")
    func otherKeySources() async throws {
        let provider = TestIdentityProvider()
        let secret = String(repeating: "k", count: 40)
        let verifier = try await JWTVerifier(
            settings: JWTSettings(
                issuer: TestIdentityProvider.issuer, audience: TestIdentityProvider.audience, jwks: [try provider.jwks(kid: "idp-2026")],
                hmacSecrets: [secret]))
        let viaJWKS = try await verifier.device(for: try await provider.sign(kid: "idp-2026"), at: Self.now)
        #expect(viaJWKS.name == "mobile-backend-7")
        let viaSecret = try await verifier.device(for: try await TestIdentityProvider.signHS256(secret: secret), at: Self.now)
        #expect(viaSecret.scopes == ["branch:HN01"])
        await #expect(throws: ServerError.self) {
            try await verifier.device(for: try await TestIdentityProvider.signHS256(secret: secret + "x"), at: Self.now)
        }
    }

    @Test("JWT settings the server cannot use stop it from starting, with a message", arguments: [
        "no key", "short HS256 secret", "not a PEM key", "not a JWKS", "empty issuer",
    ])
    func unusableSettings(case name: String) async throws {
        var settings = JWTSettings(issuer: TestIdentityProvider.issuer, audience: TestIdentityProvider.audience)
        switch name {
        case "short HS256 secret": settings.hmacSecrets = ["too-short"]
        case "not a PEM key": settings.publicKeysPEM = ["-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"]
        case "not a JWKS": settings.jwks = [#"{"keys": 7}"#]
        case "empty issuer": settings = JWTSettings(issuer: "", audience: "a", hmacSecrets: [String(repeating: "k", count: 32)])
        default: break
        }
        await #expect(throws: ConfigurationError.self) { try await JWTVerifier(settings: settings) }
    }
}
