import JWTKit
import OxpeckerProtocol

/// Verifies the JWTs of ``JWTSettings`` with jwt-kit and turns a good one into
/// the ``DeviceIdentity`` of its subject, so that the rest of the server treats
/// a JWT caller as any device. A bad one is refused with a code:
/// `token_expired` past `exp`, `token_invalid` for anything else.
///
/// ```swift
/// let verifier = try await JWTVerifier(settings: JWTSettings(issuer: "https://idp.example-bank.test", audience: "oxpecker", publicKeysPEM: [pem]))
/// let device = try await verifier.device(for: jwt, at: now)
/// ```
public struct JWTVerifier: Sendable {
    let settings: JWTSettings
    private let keys: JWTKeyCollection

    /// Loads the keys of `settings`.
    ///
    /// - Throws: ``ConfigurationError`` when a setting is missing or a key does not load.
    public init(settings: JWTSettings) async throws {
        guard !settings.issuer.isEmpty else { throw ConfigurationError("JWT: the issuer must not be empty") }
        guard !settings.audience.isEmpty else { throw ConfigurationError("JWT: the audience must not be empty") }
        guard !settings.scopesClaim.isEmpty else { throw ConfigurationError("JWT: the scopes claim must not be empty") }
        guard settings.leewaySeconds >= 0 else { throw ConfigurationError("JWT: the leeway must not be negative") }
        guard !(settings.jwks.isEmpty && settings.publicKeysPEM.isEmpty && settings.hmacSecrets.isEmpty) else {
            throw ConfigurationError("JWT: give a verification key (a JWKS file, a PEM public key or an HS256 secret)")
        }
        let keys = JWTKeyCollection()
        for (index, document) in settings.jwks.enumerated() {
            do {
                try await keys.add(jwksJSON: document)
            } catch {
                throw ConfigurationError("JWT: JWKS \(index + 1) does not load: \(error)")
            }
        }
        // Keys without a `kid` get one of their own: jwt-kit keeps a single default key, and tries the others by id.
        for (index, pem) in settings.publicKeysPEM.enumerated() {
            try await Self.add(publicKeyPEM: pem, kid: JWKIdentifier(string: "pem-\(index + 1)"), to: keys)
        }
        for (index, secret) in settings.hmacSecrets.enumerated() {
            guard secret.utf8.count >= 32 else { throw ConfigurationError("JWT: an HS256 secret must be at least 32 bytes") }
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256, kid: JWKIdentifier(string: "hmac-\(index + 1)"))
        }
        self.settings = settings
        self.keys = keys
    }

    private static func add(publicKeyPEM pem: String, kid: JWKIdentifier, to keys: JWTKeyCollection) async throws {
        if let key = try? ES256PublicKey(pem: pem) {
            await keys.add(ecdsa: key, kid: kid)
        } else if let key = try? ES384PublicKey(pem: pem) {
            await keys.add(ecdsa: key, kid: kid)
        } else if let key = try? ES512PublicKey(pem: pem) {
            await keys.add(ecdsa: key, kid: kid)
        } else if let key = try? Insecure.RSA.PublicKey(pem: pem) {
            await keys.add(rsa: key, digestAlgorithm: .sha256, kid: kid)
        } else {
            throw ConfigurationError("JWT: public key \(kid.string) is not a PEM P-256, P-384, P-521 or RSA (2048 bits or more) public key")
        }
    }

    /// The device that `token` identifies at `now`.
    ///
    /// - Throws: `ServerError` with `token_invalid` or `token_expired`.
    public func device(for token: String, at now: Instant) async throws -> DeviceIdentity {
        let claims: JWTClaims
        do {
            claims = try await keys.verify(token, as: JWTClaims.self, iteratingKeys: true)
        } catch let error as JWTError {
            throw ServerError(.tokenInvalid, Self.explain(error))
        } catch {
            throw ServerError(.tokenInvalid, "the JWT cannot be verified")
        }
        return try identity(of: claims, at: now.millisecondsSince1970)
    }

    private static func explain(_ error: JWTError) -> String {
        switch error.errorType {
        case .signatureVerificationFailed: "the JWT's signature does not verify with any key this server trusts"
        case .malformedToken: "the JWT cannot be read"
        case .unknownKID, .noKeyProvided, .missingKIDHeader: "the JWT is signed by a key this server does not know"
        default: "the JWT cannot be verified (\(error.errorType))"
        }
    }

    /// Checks the claims jwt-kit leaves to us, in a fixed order, and names the first that fails.
    func identity(of claims: JWTClaims, at nowMillis: Int64) throws -> DeviceIdentity {
        let leeway = settings.leewaySeconds * 1000
        guard claims.string("iss") == settings.issuer else {
            throw ServerError(.tokenInvalid, "the JWT's issuer (iss) is not the one this server trusts")
        }
        guard claims.audiences.contains(settings.audience) else {
            throw ServerError(.tokenInvalid, "the JWT's audience (aud) does not name this server")
        }
        guard let expiry = claims.instantMillis("exp") else {
            throw ServerError(.tokenInvalid, "the JWT has no expiry (exp)")
        }
        guard nowMillis < expiry + leeway else {
            throw ServerError(.tokenExpired, "the JWT expired at \(Instant(millisecondsSince1970: expiry)); get a new one")
        }
        if claims["nbf"] != nil {
            guard let notBefore = claims.instantMillis("nbf"), nowMillis + leeway >= notBefore else {
                throw ServerError(.tokenInvalid, "the JWT is not valid yet (nbf)")
            }
        }
        guard let subject = claims.string("sub"), !subject.isEmpty, subject.count <= 200 else {
            throw ServerError(.tokenInvalid, "the JWT has no subject (sub) of 1 to 200 characters")
        }
        guard let scopes = claims.strings(settings.scopesClaim) else {
            throw ServerError(.tokenInvalid, "the JWT has no '\(settings.scopesClaim)' claim with its scopes")
        }
        if let bad = scopes.first(where: { !ScopeRule.accepts($0) }) {
            throw ServerError(.tokenInvalid, "the JWT's scope '\(bad.prefix(80))' is not kind:id, like branch:HN01")
        }
        return DeviceIdentity(tokenID: DeviceIdentity.jwtPrefix + subject, name: subject, scopes: scopes)
    }
}
