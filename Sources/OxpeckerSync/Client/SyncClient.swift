import Logging
import OxpeckerProtocol
import OxpeckerStore

/// Syncs one ``CustomerStore`` with an Oxpecker sync server, by the client
/// algorithm of `Protocol/README.md`: hello, bootstrap (a new device), push the
/// outbox, pull until caught up.
///
/// Every step commits what it received together with the checkpoint that
/// records it, in one store transaction, so an interrupted sync (a crash, a
/// dropped network, a killed server) resumes where it stopped and never loses
/// or duplicates a change. Requests that fail for a reason that may pass are
/// retried with backoff (``RetryPolicy``); other refusals end the sync with a
/// ``SyncError``.
///
/// ```swift
/// let client = try SyncClient(store: store, configuration: SyncConfiguration(server: "http://127.0.0.1:8080", token: token))
/// let summary = try await client.sync { progress in logger.info("pushed \(progress.pushed)") }
/// ```
///
/// A client holds no mutable state: share it freely, but run one sync of a store at a time.
public struct SyncClient: Sendable {
    /// The store this client syncs.
    public let store: CustomerStore
    /// The server and the retry settings.
    public let configuration: SyncConfiguration
    let transport: any SyncTransport
    let logger: Logger
    /// Waits between retries; replaced by tests.
    var sleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }

    /// A client over HTTP (AsyncHTTPClient's shared client).
    ///
    /// - Throws: ``SyncError/invalidServer(_:reason:)`` if the configuration's server is not an http(s) URL,
    ///   ``SyncError/invalidCertificateAuthority(_:reason:)`` if its CA file does not load.
    public init(store: CustomerStore, configuration: SyncConfiguration, logger: Logger = Logger(label: "oxpecker.sync")) throws(SyncError) {
        let transport = try HTTPSyncTransport(
            server: configuration.server, certificateAuthorityFile: configuration.certificateAuthorityFile,
            timeout: configuration.requestTimeout, maximumResponseBytes: configuration.maximumResponseBytes)
        self.init(store: store, configuration: configuration, transport: transport, logger: logger)
    }

    /// A client over any transport (a test double, a proxy).
    public init(store: CustomerStore, configuration: SyncConfiguration, transport: any SyncTransport, logger: Logger = Logger(label: "oxpecker.sync")) {
        self.store = store
        self.configuration = configuration
        self.transport = transport
        var logger = logger
        logger[metadataKey: "replica"] = "\(store.replica)"
        self.logger = logger
    }

    /// Runs one full sync round: hello (and, if the server's log is not the one this
    /// store synced with, take back what it lacks), bootstrap if this store never
    /// completed one, push the whole outbox, then pull until the server has nothing more.
    ///
    /// - Parameter progress: called after every committed step (a page, a batch), on the sync's task.
    /// - Returns: what the sync did.
    /// - Throws: ``SyncError`` when the server refuses or cannot be reached; a
    ///   `StoreError` when the store fails. What was committed before stays committed.
    @discardableResult
    public func sync(progress: @escaping @Sendable (SyncProgress) -> Void = { _ in }) async throws -> SyncSummary {
        let clock = ContinuousClock()
        let start = clock.now
        var run = SyncRun(progress: progress)
        let (session, hello, offset) = try await handshake()
        run.summary.clockOffset = .milliseconds(offset)
        run.report(.hello)
        try await recoverIfServerLogChanged(hello, &run)
        try await bootstrapIfNeeded(session, &run)
        try await recoverClockIfNeeded(hello, offsetMillis: offset, &run)
        try await pushOutbox(session, &run)
        try await recoverFromClockSkewRefusals(session, &run)
        try await pullUntilCaughtUp(session, &run)
        let server = configuration.server
        let finished = Instant(millisecondsSince1970: WallClock.system.now())
        try await store.write { writer in
            var checkpoint = try writer.syncCheckpoint()
            checkpoint.server = server
            checkpoint.lastSyncAt = finished
            try writer.saveCheckpoint(checkpoint)
        }
        let (conflicts, pending) = try await store.read { reader in (try reader.conflicts().count, try reader.outboxCount()) }
        run.summary.conflicts = conflicts
        run.summary.pending = pending
        run.summary.duration = clock.now - start
        let summary = run.summary
        logger.info(
            "sync finished",
            metadata: [
                "pushed": "\(summary.pushed)", "pulled": "\(summary.pulled)", "purged": "\(summary.purged)",
                "conflicts": "\(summary.conflicts)", "rejections": "\(summary.rejections.count)", "pending": "\(summary.pending)",
                "duration_ms": "\(Int(summary.duration.seconds * 1000))",
            ])
        return summary
    }

    /// The handshake alone: checks that the server speaks a version of the protocol
    /// this client speaks and that the token is valid, and returns the server's answer.
    public func hello() async throws -> HelloResponse {
        try await handshake().hello
    }

    /// `POST /v1/hello` with this client's newest version, then, if the server
    /// is older, with the newest version both speak. Also returns the server's
    /// clock minus the store's (``CustomerStore/wallClock``) when the answer came:
    /// the one-way delay makes it an underestimate, never an overestimate.
    func handshake() async throws -> (session: ProtocolSession, hello: HelloResponse, offsetMillis: Int64) {
        var session = ProtocolSession(
            server: configuration.server, transport: transport, token: configuration.token, retry: configuration.retry,
            logger: logger, codec: WireCodec(limits: responseLimits(.standard)), sleep: sleep)
        let spoken = ProtocolVersion.supported
        var version = spoken.maximum
        while true {
            session.version = version
            let request = HelloRequest(protocolVersion: version, replica: store.replica, client: configuration.client)
            do {
                let hello = try await session.send(request, to: .hello, expecting: HelloResponse.self)
                guard spoken.contains(hello.protocolVersion) else {
                    throw SyncError.invalidResponse(
                        endpoint: ProtocolSession.Endpoint.hello.rawValue,
                        detail: "the server answered in protocol version \(hello.protocolVersion), which this client does not speak",
                        requestID: nil)
                }
                session.version = hello.protocolVersion
                session.codec = WireCodec(limits: responseLimits(hello.limits))
                let offset = hello.serverTime.millisecondsSince1970 - store.wallClock.now()
                if abs(offset) > Int64(configuration.clockWarningThreshold.seconds * 1000) {
                    logger.warning(
                        "this device's clock differs from the server's; changes stamped too far ahead are refused (clock_skew)",
                        metadata: ["offset_ms": "\(offset)"])
                }
                logger.debug(
                    "hello", metadata: ["server_replica": "\(hello.serverReplica)", "protocol_version": "\(hello.protocolVersion)"])
                return (session.with(limits: hello.limits, serverReplica: hello.serverReplica), hello, offset)
            } catch SyncError.refused(let refusal)
                where refusal.code == .versionUnsupported || refusal.code == .upgradeRequired
            {
                guard let supported = refusal.supportedVersions else { throw SyncError.refused(refusal) }
                let common = min(supported.maximum, spoken.maximum)
                if refusal.code == .versionUnsupported, common < version, common >= max(supported.minimum, spoken.minimum) {
                    logger.notice("the server speaks an older protocol version; using it", metadata: ["version": "\(common)"])
                    version = common
                    continue
                }
                throw SyncError.incompatibleServer(supported: supported, spoken: spoken)
            }
        }
    }

    /// The limits answers are decoded with: the server's, but with room for large pages.
    private func responseLimits(_ limits: WireLimits) -> WireLimits {
        var limits = limits
        limits.maximumBodyBytes = max(limits.maximumBodyBytes, configuration.maximumResponseBytes)
        return limits
    }
}

/// The counts of one sync in progress, and the callback that hears about them.
struct SyncRun {
    var summary = SyncSummary()
    var toPush = 0
    let progress: @Sendable (SyncProgress) -> Void

    func report(_ phase: SyncProgress.Phase) {
        progress(
            SyncProgress(
                phase: phase, pushed: summary.pushed, toPush: toPush, pulled: summary.pulled,
                bootstrapped: summary.bootstrappedCustomers))
    }
}

extension ProtocolSession {
    /// The session, remembering the server's limits and replica.
    func with(limits: WireLimits, serverReplica: ReplicaID) -> ProtocolSession {
        var session = self
        session.serverLimits = limits
        session.serverReplica = serverReplica
        return session
    }
}
