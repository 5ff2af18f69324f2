import Hummingbird

/// Guards a route group for administrators: the request must carry a valid
/// admin token (`oxpecker-server admin-token create`). A device token or a JWT
/// is refused with `forbidden`, a missing or unknown token with
/// `unauthorized`, an expired or revoked one with `token_expired` or
/// `token_revoked`; the handler runs only for an administrator, who is in
/// ``ServerRequestContext/admin``.
///
/// ```swift
/// let admin = router.group("v1/admin").add(middleware: AdminAuthMiddleware(authenticator: authenticator))
/// ```
public struct AdminAuthMiddleware: RouterMiddleware {
    public typealias Context = ServerRequestContext
    let authenticator: RequestAuthenticator

    public init(authenticator: RequestAuthenticator) {
        self.authenticator = authenticator
    }

    public func handle(
        _ request: Request, context: ServerRequestContext, next: (Request, ServerRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        let admin = try await authenticator.admin(for: request)
        context.admin = admin
        context.logger[metadataKey: "admin"] = .string(admin.tokenID)
        return try await next(request, context)
    }
}
