import HTTPTypes
import Hummingbird
import NIOCore
import OxpeckerProtocol

/// The endpoints for operators, outside the protocol's versioning: liveness
/// and readiness without a token (they say nothing but "up"), and metrics,
/// which need an admin token unless the configuration opens them
/// (``ServerConfiguration/metricsWithoutToken``): they name devices by token
/// id and show how busy the server is. None carries customer data.
struct OperationsAPI: Sendable {
    let storage: any ServerStorage
    let metrics: ServerMetrics
    let authenticator: RequestAuthenticator
    let configuration: ServerConfiguration

    func register(on router: Router<ServerRequestContext>) {
        // The process answers: restart it if not.
        router.get("/live") { _, _ in HTTPReply.json(#"{"status":"live"}"#) }
        // The process can serve: its storage answers. Take it out of rotation if not.
        router.get("/ready") { _, context in
            try await storageAnswers(context) { try await storage.checkReady() }
            return HTTPReply.json(#"{"status":"ready"}"#)
        }
        router.get("/metrics") { request, context in
            // The same refusals as /v1/admin/…: unauthorized, forbidden, token_expired, token_revoked.
            if !configuration.metricsWithoutToken { _ = try await authenticator.admin(for: request) }
            let text = try await storageAnswers(context) { try await metrics.exposition(of: storage) }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
        }
    }

    /// `body`'s result, or `unavailable` (503) when the storage fails: the instance cannot serve now.
    private func storageAnswers<T>(_ context: ServerRequestContext, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            context.logger.warning("storage does not answer", metadata: ["error": "\(error)"])
            throw ServerError(.unavailable, "the storage does not answer; see the server's log")
        }
    }
}
