import Hummingbird
import OxpeckerProtocol
import OxpeckerStore

/// Tells who sent a request, from its bearer credential, or refuses it with a
/// specific code and changes nothing:
///
/// | credential | sync endpoints | admin endpoints |
/// | --- | --- | --- |
/// | none, unknown, malformed | `unauthorized` | `unauthorized` |
/// | device token | the device | `forbidden` |
/// | admin token | `forbidden` | the administrator |
/// | JWT (when configured) | the device of its subject | `forbidden` |
/// | expired / revoked token | `token_expired` / `token_revoked` | the same |
/// | JWT failing verification | `token_invalid` (`token_expired` past `exp`) | `forbidden` |
///
/// Every request looks its token up again, so a revocation takes effect at the next request.
public struct RequestAuthenticator: Sendable {
    let storage: any ServerStorage
    let jwt: JWTVerifier?
    let clock: WallClock

    /// - Parameter jwt: verifies JWTs from an identity provider; nil refuses them.
    public init(storage: any ServerStorage, jwt: JWTVerifier? = nil, clock: WallClock = .system) {
        self.storage = storage
        self.jwt = jwt
        self.clock = clock
    }

    private var now: Instant { Instant(millisecondsSince1970: clock.now()) }

    /// The device a sync request comes from.
    public func device(for request: Request) async throws -> DeviceIdentity {
        switch try BearerCredential.of(request) {
        case .jwt(let token):
            guard let jwt else {
                throw ServerError(.unauthorized, "this server does not accept JWTs; use a device token from `oxpecker-server token create`")
            }
            return try await jwt.device(for: token, at: now)
        case .token(let secret):
            let record = try await validToken(secret)
            guard record.kind == .device else {
                throw ServerError(.forbidden, "an admin token cannot sync; use a device token")
            }
            return DeviceIdentity(tokenID: record.id, name: record.name, scopes: record.scopes)
        }
    }

    /// The administrator an admin request comes from.
    public func admin(for request: Request) async throws -> AdminIdentity {
        switch try BearerCredential.of(request) {
        case .jwt:
            throw ServerError(.forbidden, "a JWT identifies a device; admin endpoints need an admin token (`oxpecker-server admin-token create`)")
        case .token(let secret):
            let record = try await validToken(secret)
            guard record.kind == .admin else {
                throw ServerError(.forbidden, "a device token cannot call admin endpoints; use an admin token (`oxpecker-server admin-token create`)")
            }
            return AdminIdentity(tokenID: record.id, name: record.name)
        }
    }

    /// The stored token of `secret`, if it is neither unknown, revoked nor expired.
    private func validToken(_ secret: String) async throws -> TokenRecord {
        guard let record = try await storage.token(forHash: TokenSecret.hash(secret)) else {
            throw ServerError(.unauthorized, "the token is unknown to this server")
        }
        if let revoked = record.revokedAt {
            throw ServerError(.tokenRevoked, "the token \(record.id) was revoked at \(revoked); ask for a new one")
        }
        let now = now
        if record.isExpired(at: now), let expiry = record.expiresAt {
            throw ServerError(.tokenExpired, "the token \(record.id) expired at \(expiry); ask for a new one")
        }
        return record
    }
}

extension RequestAuthenticator {
    /// The authenticator `configuration` asks for: its JWT settings (if any) and its clock.
    ///
    /// - Throws: ``ConfigurationError`` when the JWT keys do not load.
    init(configuration: ServerConfiguration, storage: any ServerStorage) async throws {
        var verifier: JWTVerifier?
        if let settings = configuration.jwt { verifier = try await JWTVerifier(settings: settings) }
        self.init(storage: storage, jwt: verifier, clock: configuration.clock)
    }
}
