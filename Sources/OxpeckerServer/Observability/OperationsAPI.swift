import HTTPTypes
import Hummingbird
import NIOCore
import OxpeckerProtocol

/// The endpoints for operators, without a token and outside the protocol's
/// versioning: liveness, readiness and metrics. They carry no customer data
/// (devices appear only by token id). The server listens on loopback unless
/// told otherwise; an operator who binds it wider keeps these paths on the
/// internal network (see the README).
struct OperationsAPI: Sendable {
    let storage: any ServerStorage
    let metrics: ServerMetrics

    func register(on router: Router<ServerRequestContext>) {
        // The process answers: restart it if not.
        router.get("/live") { _, _ in HTTPReply.json(#"{"status":"live"}"#) }
        // The process can serve: its storage answers. Take it out of rotation if not.
        router.get("/ready") { _, context in
            try await storageAnswers(context) { try await storage.checkReady() }
            return HTTPReply.json(#"{"status":"ready"}"#)
        }
        router.get("/metrics") { _, context in
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
