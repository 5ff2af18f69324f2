import HTTPTypes
import Hummingbird
import NIOCore

/// Lets in only the browser that opened the start URL.
///
/// - A GET with `?key=SECRET` (the URL `oxpecker console` prints) opens a session:
///   an HttpOnly, SameSite=Strict cookie, and a redirect to `/` so that the key
///   leaves the address bar and the history.
/// - Every other request needs that cookie, else 403.
/// - A POST must come from the console's own origin (when the browser says), carry
///   a form of at most ``maximumFormBytes``, and the session's CSRF token in its
///   `csrf` field, else 403 before any route runs: nothing is written.
struct SessionMiddleware: RouterMiddleware {
    typealias Context = ConsoleRequestContext

    /// The start URL's query parameter holding the secret.
    static let keyParameter = "key"
    /// The session cookie's name for the console on `port`: browsers keep cookies per host, not per
    /// port, so two consoles on one machine (two stores) would otherwise sign each other's browser out.
    static func cookieName(port: Int) -> String { "oxpecker_console_\(port)" }
    /// The form field holding the CSRF token.
    static let csrfField = "csrf"
    /// The largest form accepted: a note's text at its limit, encoded, with room to spare.
    static let maximumFormBytes = 256 * 1024

    let secret: ConsoleSecret
    let sessions: ConsoleSessions
    let renderer: PageRenderer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.method == .get, let key = ConsoleRoutes.query(of: request)[Self.keyParameter] {
            guard secret.matches(key) else {
                return renderer.refusal(status: .forbidden, title: "Not this key", message: Self.openTheURL)
            }
            guard let port = sessions.port else {
                return renderer.refusal(status: .serviceUnavailable, title: "Starting", message: "The console is starting; try again.")
            }
            let session = sessions.open()
            var response = Response(status: .seeOther, headers: [.location: "/", .cacheControl: "no-store"])
            response.setCookie(Cookie(name: Self.cookieName(port: port), value: session.id.text, path: "/", httpOnly: true, sameSite: .strict))
            return response
        }
        guard let port = sessions.port, let cookie = request.cookies[Self.cookieName(port: port)]?.value,
            let session = sessions.session(cookie: cookie)
        else {
            return renderer.refusal(status: .forbidden, title: "Not signed in", message: Self.openTheURL)
        }
        var context = context
        context.session = session
        if request.method == .post {
            if let origin = request.headers[.origin], let port = sessions.port, !HostCheckMiddleware.accepts(origin: origin, port: port) {
                return renderer.refusal(status: .forbidden, title: "Refused", message: "This form was not sent from the console's own page.")
            }
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: Self.maximumFormBytes)
            } catch {
                return renderer.refusal(status: .contentTooLarge, title: "Too large", message: "The form is larger than the console accepts.")
            }
            guard let form = FormFields(urlEncoded: String(buffer: body)) else {
                return renderer.refusal(status: .badRequest, title: "Unreadable form", message: "The form is not valid UTF-8 form data.")
            }
            guard let token = form[Self.csrfField], session.csrfToken.matches(token) else {
                return renderer.refusal(
                    status: .forbidden, title: "Form expired",
                    message: "This form's security token is missing or not this session's: nothing was saved. Reload the page and try again.")
            }
            context.form = form
        }
        return try await next(request, context)
    }

    static let openTheURL = "Open the address that `oxpecker console` printed when it started (http://127.0.0.1:PORT/?key=…)."
}
