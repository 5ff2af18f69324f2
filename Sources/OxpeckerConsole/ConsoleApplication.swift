import Hummingbird
import Logging
import OxpeckerStore

/// Builds the advisor's console over an open store: the CLI command and the tests both call this.
///
/// It listens on 127.0.0.1 only. Whoever opens ``ConsoleConfiguration/startURL(port:)``
/// gets a session cookie; every other request is refused (403), as is any request whose
/// Host header is not this console's (421) and any form without the session's CSRF token (403).
///
/// ```swift
/// let app = try buildConsole(store: store, configuration: configuration) { port in
///     print(configuration.startURL(port: port))
/// }
/// try await app.runService()   // until SIGINT or SIGTERM
/// ```
public func buildConsole(
    store: CustomerStore, configuration: ConsoleConfiguration, logger: Logger = Logger(label: "oxpecker-console"),
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let renderer = try PageRenderer()
    let sessions = ConsoleSessions()
    let router = Router(context: ConsoleRequestContext.self)
    router.add(middleware: PageMiddleware(renderer: renderer))
    router.add(middleware: HostCheckMiddleware(sessions: sessions, renderer: renderer))
    router.add(middleware: SessionMiddleware(secret: configuration.secret, sessions: sessions, renderer: renderer))
    ConsoleRoutes(store: store, configuration: configuration, renderer: renderer).register(on: router)
    return Application(
        router: router,
        configuration: .init(address: .hostname(ConsoleConfiguration.host, port: configuration.port), serverName: "oxpecker-console"),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            sessions.serverRuns(on: port)
            await onServerRunning(port)
        },
        logger: logger)
}
