import HTTPTypes
import Hummingbird

/// Answers only requests addressed to this console: the Host header must be
/// `127.0.0.1:PORT` or `localhost:PORT`. A web page that rebinds its own DNS
/// name to 127.0.0.1 sends its own name as Host, and is refused with 421.
struct HostCheckMiddleware: RouterMiddleware {
    typealias Context = ConsoleRequestContext
    let sessions: ConsoleSessions
    let renderer: PageRenderer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let port = sessions.port, let host = request.head.authority, Self.accepts(host: host, port: port) else {
            return renderer.refusal(
                status: .misdirectedRequest, title: "Wrong address",
                message: "This console answers only at http://127.0.0.1:\(sessions.port.map(String.init) ?? "PORT")/ (or localhost with the same port).")
        }
        return try await next(request, context)
    }

    /// Whether `host` (a Host header) names this console on `port`.
    static func accepts(host: String, port: Int) -> Bool {
        let host = host.lowercased()
        return host == "127.0.0.1:\(port)" || host == "localhost:\(port)"
    }

    /// The origins a form of this console is sent from.
    static func accepts(origin: String, port: Int) -> Bool {
        let origin = origin.lowercased()
        return origin == "http://127.0.0.1:\(port)" || origin == "http://localhost:\(port)"
    }
}
