import Hummingbird

/// The request context of every route of the server: Hummingbird's core
/// context, plus the administrator once ``AdminAuthMiddleware`` has checked
/// the request's admin token.
///
/// ```swift
/// router.group("v1/admin").add(middleware: AdminAuthMiddleware(authenticator: authenticator))
///     .post("customers/:id/erase") { request, context in let admin = try context.requireAdmin() … }
/// ```
public struct ServerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The administrator who sent the request; set on admin routes only.
    public var admin: AdminIdentity?

    public init(source: Source) {
        coreContext = .init(source: source)
        admin = nil
    }

    /// The administrator of the request, or `unauthorized` on a route that ``AdminAuthMiddleware`` does not guard.
    public func requireAdmin() throws -> AdminIdentity {
        guard let admin else { throw ServerError(.unauthorized, "this endpoint needs an admin token") }
        return admin
    }
}
