/// How the server accepts JWTs signed by a bank's identity provider, the
/// second way (besides device tokens) for a mobile-app backend to sync.
///
/// A JWT is accepted when its signature verifies with one of the keys, its
/// `iss` is ``issuer``, its `aud` names ``audience``, it has an `exp` not yet
/// passed (and an `nbf`, if any, reached), a `sub`, and the claim
/// ``scopesClaim`` holding its scopes (an array of strings, or one string of
/// scopes separated by spaces). Its caller becomes the device named by `sub`.
///
/// ```swift
/// var jwt = JWTSettings(issuer: "https://idp.example-bank.test", audience: "oxpecker")
/// jwt.publicKeysPEM = [try String(contentsOfFile: "idp-es256.pem", encoding: .utf8)]
/// ```
public struct JWTSettings: Sendable {
    /// The only `iss` accepted.
    public var issuer: String
    /// The `aud` a token must name (`aud` may be one string or an array).
    public var audience: String
    /// JSON Web Key Set documents (the `{"keys": […]}` an identity provider publishes), each as text.
    public var jwks: [String]
    /// PEM public keys (`BEGIN PUBLIC KEY`): P-256, P-384 or P-521 for ES256/384/512, or RSA for RS256.
    public var publicKeysPEM: [String]
    /// Shared secrets for HS256, at least 32 bytes each. Prefer a public key: whoever holds the secret can mint tokens.
    public var hmacSecrets: [String]
    /// The claim that holds the caller's scopes.
    public var scopesClaim: String
    /// How far `exp` and `nbf` may be off, for clock differences with the identity provider, in seconds.
    public var leewaySeconds: Int64

    public init(
        issuer: String, audience: String, jwks: [String] = [], publicKeysPEM: [String] = [], hmacSecrets: [String] = [],
        scopesClaim: String = "oxpecker_scopes", leewaySeconds: Int64 = 60
    ) {
        self.issuer = issuer
        self.audience = audience
        self.jwks = jwks
        self.publicKeysPEM = publicKeysPEM
        self.hmacSecrets = hmacSecrets
        self.scopesClaim = scopesClaim
        self.leewaySeconds = leewaySeconds
    }
}
