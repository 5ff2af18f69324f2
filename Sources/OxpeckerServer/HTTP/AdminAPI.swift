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
        admin.get("tokens") { _, context in try await tokens(context) }
        admin.post("tokens/:id/revoke") { _, context in try await revoke(context) }
        admin.post("customers/:id/erase") { _, context in try await erase(context) }
        admin.get("customers/:id/erasure") { _, context in try await erasure(context) }
        admin.get("audit") { request, context in try await audit(request, context) }
    }

    /// `POST /v1/admin/customers/{id}/erase`: the right to erasure (see `oxpecker-server customer erase`);
    /// answers where the erasure stands. Erasing again changes nothing.
    func erase(_ context: ServerRequestContext) async throws -> Response {
        let admin = try context.requireAdmin()
        let customer = try Self.customer(context)
        do {
            let status = try await storage.eraseCustomer(
                customer, by: admin.tokenID, at: now)
            context.logger.notice("customer erased", metadata: ["customer": "\(customer)", "admin": "\(admin.tokenID)"])
            return HTTPReply.json(status.json.canonicalText)
        } catch ErasureError.unknownCustomer {
            throw ServerError(.notFound, "the server has no customer '\(customer)'")
        }
    }

    /// `GET /v1/admin/customers/{id}/erasure`: where the erasure stands, with the devices that have not confirmed the purge.
    func erasure(_ context: ServerRequestContext) async throws -> Response {
        let admin = try context.requireAdmin()
        let customer = try Self.customer(context)
        guard let status = try await storage.readErasureStatus(of: customer, by: admin.tokenID, at: now) else {
            throw ServerError(.notFound, "customer '\(customer)' was not erased")
        }
        return HTTPReply.json(status.json.canonicalText)
    }

    /// `GET /v1/admin/audit?customer=ID` or `?device=TOKEN` (and `limit`, 1 to 10000): the audit trail, oldest first.
    func audit(_ request: Request, _ context: ServerRequestContext) async throws -> Response {
        let admin = try context.requireAdmin()
        let customer = request.uri.queryParameters.get("customer")
        let device = request.uri.queryParameters.get("device")
        let query: AuditQuery
        switch (customer, device) {
        case (let customer?, nil):
            guard let id = CustomerID(rawValue: customer) else { throw ServerError(.invalidIdentifier, "'\(customer.prefix(80))' is not a customer id") }
            query = .customer(id)
        case (nil, let device?):
            // Recorded in the trail as it is: a token id (`tok-…`, `adm-…`) or a JWT caller's (`jwt:<subject>`).
            guard !device.isEmpty, device.count <= 256, !device.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw ServerError(.invalidValue, "device must be a token id of 1 to 256 characters")
            }
            query = .device(tokenID: device)
        default:
            throw ServerError(.invalidValue, "give exactly one of the query parameters customer and device")
        }
        let limitText = request.uri.queryParameters.get("limit") ?? "1000"
        guard let limit = Int(limitText), (1...10_000).contains(limit) else {
            throw ServerError(.invalidValue, "limit must be 1 to 10000, not '\(limitText.prefix(20))'")
        }
        let events = try await storage.readAuditTrail(query, limit: limit, by: admin.tokenID, at: now).map(\.json)
        return HTTPReply.json(JSONValue.object(["events": .array(events)]).canonicalText)
    }

    private var now: Instant { Instant(millisecondsSince1970: configuration.clock.now()) }

    static func customer(_ context: ServerRequestContext) throws -> CustomerID {
        let text = context.parameters.get("id") ?? ""
        guard let customer = CustomerID(rawValue: text) else {
            throw ServerError(.invalidIdentifier, "'\(text.prefix(80))' is not a customer id (1 to 64 of A-Z a-z 0-9 . _ : -)")
        }
        return customer
    }

    /// `GET /v1/admin/tokens`: every device token, newest first, never a secret.
    func tokens(_ context: ServerRequestContext) async throws -> Response {
        let admin = try context.requireAdmin()
        let tokens = try await storage.listTokens(.device, by: admin.tokenID, at: now).map(Self.json)
        return HTTPReply.json(JSONValue.object(["tokens": .array(tokens)]).canonicalText)
    }

    /// `POST /v1/admin/tokens/{id}/revoke`: the token fails from its holder's next request on.
    func revoke(_ context: ServerRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        let admin = try context.requireAdmin()
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
