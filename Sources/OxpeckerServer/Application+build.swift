import Hummingbird
import HummingbirdTLS
import Logging
import OxpeckerProtocol
import ServiceLifecycle

/// Builds the sync server: the executable and the tests both call this.
///
/// ```swift
/// let app = try await buildApplication(configuration: ServerConfiguration(port: 8080))
/// try await app.runService()   // until SIGTERM or SIGINT; in-flight requests finish
/// ```
///
/// - Throws: ``ConfigurationError`` when the TLS files or the JWT keys do not load.
public func buildApplication(
    configuration: ServerConfiguration, storage: (any ServerStorage)? = nil, logger: Logger = Logger(label: "oxpecker-server"),
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let storage = try storage ?? SQLiteServerStorage(dataDirectory: configuration.dataDirectory, clock: configuration.clock)
    let authenticator = try await RequestAuthenticator(configuration: configuration, storage: storage)
    let metrics = ServerMetrics()
    let router = Router(context: ServerRequestContext.self)
    router.add(middleware: MetricsMiddleware(metrics: metrics))
    router.add(middleware: ErrorEnvelopeMiddleware())
    OperationsAPI(storage: storage, metrics: metrics, authenticator: authenticator, configuration: configuration).register(on: router)
    SyncAPI(storage: storage, configuration: configuration, authenticator: authenticator, metrics: metrics).register(on: router)
    AdminAPI(storage: storage, configuration: configuration, authenticator: authenticator).register(on: router)
    let services: [any Service] = configuration.compaction.map {
        [CompactionService(schedule: $0, storage: storage, clock: configuration.clock, metrics: metrics, logger: logger)]
    } ?? []
    return Application(
        router: router,
        server: try configuration.tls.map { try .tls(.http1(), tlsConfiguration: $0.serverConfiguration()) } ?? .http1(),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "oxpecker-server"),
        services: services,
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger)
}
