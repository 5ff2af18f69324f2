import HTTPTypes
import Hummingbird
import Logging

/// The outermost layer: every answer, refusals and failures included, carries
/// headers that keep it on this machine and in this tab (no script, no frame,
/// no asset from elsewhere, no referrer to other sites, no cache), and a failure becomes a page
/// that says what happened, never a crash.
struct PageMiddleware: RouterMiddleware {
    typealias Context = ConsoleRequestContext
    let renderer: PageRenderer

    /// No script at all; styles only inline; forms only to this console; never in a frame.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError where error.status == .notFound || error.status == .methodNotAllowed {
            response = renderer.refusal(status: .notFound, title: "Not found", message: "The console has no page \(request.uri.path).")
        } catch {
            context.logger.error("console request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            response = renderer.refusal(
                status: .internalServerError, title: "Something failed",
                message: "The console could not answer: \(error). Nothing was half-written.")
        }
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[HTTPField.Name.frameOptions] = "DENY"
        response.headers[.xContentTypeOptions] = "nosniff"
        // same-origin, not no-referrer: under no-referrer a browser sends `Origin: null` with a
        // form's POST (Fetch, "append a request Origin header"), which the origin check refuses.
        response.headers[HTTPField.Name.referrerPolicy] = "same-origin"
        response.headers[.cacheControl] = "no-store"
        return response
    }
}

extension HTTPField.Name {
    // Both names are valid tokens (RFC 9110), so the initializer cannot fail.
    static let frameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}
