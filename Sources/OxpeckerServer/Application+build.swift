import Hummingbird
import Logging
import OxpeckerProtocol

/// Builds the sync server: the executable and the tests both call this.
///
/// ```swift
/// let app = try await buildApplication(configuration: ServerConfiguration(port: 8080))
/// try await app.runService()   // until SIGTERM or SIGINT; in-flight requests finish
/// ```
public func buildApplication(
    configuration: ServerConfiguration, storage: (any ServerStorage)? = nil, logger: Logger = Logger(label: "oxpecker-server"),
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let storage = try storage ?? SQLiteServerStorage(dataDirectory: configuration.dataDirectory, clock: configuration.clock)
    let router = Router()
    router.add(middleware: ErrorEnvelopeMiddleware())
    SyncAPI(storage: storage, configuration: configuration).register(on: router)
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "oxpecker-server"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger)
}
