import Hummingbird
import OxpeckerProtocol
import OxpeckerStore

/// The administrators' endpoints, under `/v1/admin`, every one behind
/// ``AdminAuthMiddleware``: an admin token is needed, a device token or a
/// JWT is refused with `forbidden`. Add admin routes to ``group(on:)``.
struct AdminAPI: Sendable {
    let storage: any ServerStorage
    let configuration: ServerConfiguration
    let authenticator: RequestAuthenticator

    /// The route group every admin endpoint belongs to, guarded.
    func group(on router: Router<ServerRequestContext>) -> RouterGroup<ServerRequestContext> {
        router.group("v1/admin").add(middleware: AdminAuthMiddleware(authenticator: authenticator))
    }

    func register(on router: Router<ServerRequestContext>) {
        let admin = group(on: router)
        admin.get("tokens") { _, _ in try await tokens() }
        admin.post("tokens/:id/revoke") { _, context in try await revoke(context) }
    }

    /// `GET /v1/admin/tokens`: every device token, newest first, never a secret.
    func tokens() async throws -> Response {
        let tokens = try await storage.tokens(.device).map(Self.json)
        return HTTPReply.json(JSONValue.object(["tokens": .array(tokens)]).canonicalText)
    }

    /// `POST /v1/admin/tokens/{id}/revoke`: the token fails from its holder's next request on.
    func revoke(_ context: ServerRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        let admin = try context.requireAdmin()
        let now = Instant(millisecondsSince1970: configuration.clock.now())
        guard try await storage.revokeToken(id: id, by: admin.tokenID, at: now) else {
            throw ServerError(.notFound, "no active token '\(id.prefix(80))'")
        }
        context.logger.notice("token revoked", metadata: ["token": "\(id)", "admin": "\(admin.tokenID)"])
        return HTTPReply.json(JSONValue.object(["revoked": .string(id)]).canonicalText)
    }

    static func json(_ token: TokenRecord) -> JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(token.id), "name": .string(token.name), "scopes": .array(token.scopes.map { .string($0) }),
            "created_at": .string(token.createdAt.description),
        ]
        if let expiry = token.expiresAt { object["expires_at"] = .string(expiry.description) }
        if let revoked = token.revokedAt { object["revoked_at"] = .string(revoked.description) }
        return .object(object)
    }
}
