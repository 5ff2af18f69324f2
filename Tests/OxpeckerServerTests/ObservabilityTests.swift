import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore
import Synchronization
import Testing

@Suite("Operators: metrics, liveness, readiness, request ids in logs")
struct ObservabilityTests {
    @Test("live and ready answer without a token")
    func liveAndReady() async throws {
        let server = try await ServerHarness.make()
        defer { server.remove() }
        try await server.test { client in
            let live = try await client.execute(uri: "/live", method: .get)
            #expect(live.status == .ok)
            #expect(live.json["status"] == "live")
            let ready = try await client.execute(uri: "/ready", method: .get)
            #expect(ready.status == .ok)
            #expect(ready.json["status"] == "ready")
        }
    }

    @Test("not ready when the storage does not answer: 503 unavailable, and still live")
    func notReady() async throws {
        var configuration = ServerConfiguration(port: 0)
        configuration.metricsWithoutToken = true
        let app = try await buildApplication(configuration: configuration, storage: UnreachableStorage())
        try await app.test(.router) { client in
            let ready = try await client.execute(uri: "/ready", method: .get)
            #expect(ready.status == .serviceUnavailable)
            #expect(ready.json["code"] == "unavailable")
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .serviceUnavailable)
            #expect(try await client.execute(uri: "/live", method: .get).status == .ok)
        }
    }

    @Test("metrics count requests, pushed changes by outcome, pulled changes, and show log size, conflicts and each device's lag", arguments: ServerBackend.all)
    func metrics(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        let tokenID = try #require(try await server.storage.tokens().first?.id)
        let scraper = try await server.adminToken()
        // Two concurrent writes of a guarded field (neither observed the other): one open conflict.
        let legalA = try fieldChange(5, replica: "r-1", customer: "c-2", field: "legal_name", value: "Jana Nováková", kind: .guardedRegister)
        let legalB = try fieldChange(1, replica: "r-2", customer: "c-2", field: "legal_name", value: "Jana Novak", kind: .guardedRegister)
        try await server.test { client in
            let first = pushBody([
                try scopeChange(1), try scopeChange(2, customer: "c-2"), try fieldChange(3), try fieldChange(4, field: "advisor", value: "a-417"),
                legalA,
            ])
            #expect(try await client.post("/v1/push", first, token: server.token).status == .ok)
            #expect(try await client.post("/v1/push", first, token: server.token).status == .ok)
            #expect(try await client.post("/v1/pull", #"{"limit":100}"#, token: server.token).status == .ok)
            #expect(try await client.post("/v1/push", pushBody([legalB], replica: "r-2"), token: server.token).status == .ok)
            #expect(try await client.post("/v1/push", "{", token: server.token).status == .badRequest)

            let response = try await client.scrape(token: scraper)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            let samples = Self.samples(in: response.text)
            #expect(samples[#"oxpecker_http_requests_total{method="POST",route="/v1/push",status="200"}"#] == 3)
            #expect(samples[#"oxpecker_http_requests_total{method="POST",route="/v1/push",status="400"}"#] == 1)
            #expect(samples[#"oxpecker_http_requests_total{method="POST",route="/v1/pull",status="200"}"#] == 1)
            #expect(samples[#"oxpecker_http_request_duration_seconds_count{method="POST",route="/v1/push"}"#] == 4)
            #expect(samples[#"oxpecker_changes_pushed_total{outcome="accepted"}"#] == 6)
            #expect(samples[#"oxpecker_changes_pushed_total{outcome="duplicate"}"#] == 5)
            #expect(samples[#"oxpecker_changes_pulled_total"#] == 5)
            #expect(samples[#"oxpecker_log_changes"#] == 6)
            #expect(samples[#"oxpecker_log_head_position"#] == 6)
            #expect(samples[#"oxpecker_open_conflicts"#] == 1)
            #expect(samples[#"oxpecker_purges_pending"#] == 0)
            // The device pulled through position 5; one change came after.
            #expect(samples[#"oxpecker_device_lag_changes{device="\#(tokenID)"}"#] == 1)
            #expect(samples["oxpecker_jwt_devices"] == 0)
        }
    }

    @Test("metrics need an admin token: none, a device token, a JWT, a revoked admin token are refused with their codes")
    func metricsNeedAdminToken() async throws {
        let server = try await ServerHarness.make()
        defer { server.remove() }
        let provider = TestIdentityProvider()
        let jwt = try await provider.sign()
        let admin = try await server.adminToken()
        let revoked = try await server.storage.createToken(.admin, name: "gone", scopes: [], expiresAt: nil, now: Self.now)
        #expect(try await server.storage.revokeToken(id: revoked.id, at: Self.now))
        try await server.test(jwt: provider.settings) { client in
            for (token, status, code) in [
                (nil, 401, "unauthorized"), ("oxpa_not-a-token", 401, "unauthorized"), (server.token, 403, "forbidden"),
                (jwt, 403, "forbidden"), (revoked.secret, 401, "token_revoked"),
            ] {
                let refused = try await client.scrape(token: token)
                #expect(refused.status.code == status && refused.json["code"] == .string(code), "\(code): \(refused.text)")
                #expect(!refused.text.contains("oxpecker_"), "a refusal shows no metric")
            }
            #expect(try await client.scrape(token: admin).status == .ok)
        }
    }

    @Test("metrics without a token only when the operator opens them (a scraper on a private network)")
    func metricsOpenedByConfiguration() async throws {
        let server = try await ServerHarness.make()
        defer { server.remove() }
        var configuration = server.configuration
        configuration.metricsWithoutToken = true
        let app = try await buildApplication(configuration: configuration, storage: server.storage)
        try await app.test(.router) { client in
            let open = try await client.scrape(token: nil)
            #expect(open.status == .ok)
            #expect(open.text.contains("oxpecker_log_changes"))
        }
        #expect(ServerConfiguration().metricsWithoutToken == false, "closed by default")
    }

    @Test("a JWT caller's subject never labels a series: JWT callers are counted, and their largest lag shown")
    func jwtCallersAggregated() async throws {
        let server = try await ServerHarness.make()
        defer { server.remove() }
        let provider = TestIdentityProvider()
        let scraper = try await server.adminToken()
        let behind = try await provider.sign(TestClaims(sub: "jana.novakova@example.test"))
        let current = try await provider.sign(TestClaims(sub: "petr.svoboda@example.test"))
        try await server.test(jwt: provider.settings) { client in
            _ = try await client.post("/v1/push", pushBody([try scopeChange(1), try fieldChange(2)]), token: server.token)
            #expect(try await client.post("/v1/pull", #"{"limit":100}"#, token: behind).status == .ok)
            _ = try await client.post("/v1/push", pushBody([try fieldChange(3), try fieldChange(4), try fieldChange(5)]), token: server.token)
            #expect(try await client.post("/v1/pull", #"{"limit":100}"#, token: current).status == .ok)
            let text = try await client.scrape(token: scraper).text
            #expect(!text.contains("example.test") && !text.contains("jwt:"), "no subject in the metrics")
            let samples = Self.samples(in: text)
            #expect(samples["oxpecker_jwt_devices"] == 2)
            #expect(samples["oxpecker_jwt_device_lag_changes_max"] == 3, "the one that pulled before the last three changes")
            #expect(!samples.keys.contains { $0.hasPrefix("oxpecker_device_lag_changes{") && !$0.contains("tok-") })
        }
    }

    static let now = Instant(millisecondsSince1970: 1_764_000_000_000)

    @Test("unknown paths count under one route label, so scanners cannot grow the metrics")
    func unknownRoutes() async throws {
        let server = try await ServerHarness.make()
        defer { server.remove() }
        try await server.test { client in
            for path in ["/a", "/b/c", "/v1/nothing"] {
                #expect(try await client.execute(uri: path, method: .get).status == .notFound)
            }
            let samples = Self.samples(in: try await client.scrape(token: try await server.adminToken()).text)
            #expect(samples[#"oxpecker_http_requests_total{method="GET",route="NotFound",status="404"}"#] == 3)
            #expect(!samples.keys.contains { $0.contains("/b/c") })
        }
    }

    @Test("every log line of a request carries its request id, the one in the Oxpecker-Request-Id header")
    func requestIDsInLogs() async throws {
        let server = try await ServerHarness.make()
        defer { server.remove() }
        let records = LogRecords()
        var logger = Logger(label: "test") { _ in CapturingLogHandler(records: records) }
        logger.logLevel = .trace
        let app = try await buildApplication(configuration: server.configuration, storage: server.storage, logger: logger)
        try await app.test(.router) { client in
            var ids: [String] = []
            for (body, token) in [(pushBody([try scopeChange(1), try fieldChange(2)]), server.token), ("{", server.token), ("{}", "wrong")] {
                let response = try await client.post("/v1/push", body, token: token)
                ids.append(try #require(response.headers[HTTPField.Name("Oxpecker-Request-Id")!]))
            }
            ids.append(try #require(try await client.post("/v1/pull", #"{"limit":10}"#, token: server.token)
                .headers[HTTPField.Name("Oxpecker-Request-Id")!]))
            let requestLines = records.all.filter { $0.metadata["hb.request.id"] != nil }
            #expect(Set(requestLines.compactMap { $0.metadata["request_id"] }) == Set(ids), "each request logged with its id")
            for line in requestLines {
                #expect(line.metadata["request_id"] != nil, "'\(line.message)' has no request_id")
            }
            #expect(records.all.contains { $0.message == "push" && $0.metadata["request_id"] == ids[0] })
            #expect(records.all.contains { $0.message == "request refused" && $0.metadata["request_id"] == ids[1] })
            #expect(records.all.contains { $0.message == "request refused" && $0.metadata["request_id"] == ids[2] })
        }
    }

    /// `name{labels} value` lines of a Prometheus exposition, by series.
    static func samples(in text: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }
}

extension ServerHarness {
    /// A new admin token's secret (for `/metrics` and `/v1/admin/…`).
    func adminToken() async throws -> String {
        try await storage.createToken(.admin, name: "ops", scopes: [], expiresAt: nil, now: Instant(millisecondsSince1970: configuration.clock.now())).secret
    }
}

extension TestClientProtocol {
    /// `GET /metrics` with `token` (nil: none), as Prometheus scrapes it.
    func scrape(token: String?) async throws -> TestResponse {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await execute(uri: "/metrics", method: .get, headers: headers)
    }
}

/// Log lines as recorded, with their metadata flattened to strings.
final class LogRecords: Sendable {
    struct Record: Sendable {
        let message: String
        let metadata: [String: String]
    }

    private let records = Mutex<[Record]>([])
    var all: [Record] { records.withLock { $0 } }
    func append(_ record: Record) { records.withLock { $0.append(record) } }
}

/// A log handler that keeps every line in `records`.
struct CapturingLogHandler: LogHandler {
    let records: LogRecords
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
        records.append(.init(message: event.message.description, metadata: all.mapValues { "\($0)" }))
    }
}

/// A storage whose database is gone: every call fails.
struct UnreachableStorage: ServerStorage {
    struct Gone: Error {}
    var replica: ReplicaID { "server-gone" }
    func token(forHash tokenHash: String) async throws -> TokenRecord? { throw Gone() }
    func push(_ request: PushRequest, from device: DeviceIdentity, policy: PushPolicy) async throws -> PushResponse { throw Gone() }
    func pull(after cursor: SyncCursor?, limit: Int, for device: DeviceIdentity, replica: ReplicaID?, at now: Instant) async throws
        -> LogPage
    { throw Gone() }
    func snapshot(page: SyncCursor?, limit: Int, for device: DeviceIdentity, replica: ReplicaID?, at now: Instant) async throws -> SnapshotPage { throw Gone() }
    func createToken(_ kind: TokenKind, name: String, scopes: [String], expiresAt: Instant?, now: Instant) async throws -> IssuedToken {
        throw Gone()
    }
    func tokens(_ kind: TokenKind) async throws -> [TokenRecord] { throw Gone() }
    func setTokenScopes(id: String, scopes: [String], at: Instant) async throws -> Bool { throw Gone() }
    func revokeToken(id: String, by actor: String, at: Instant) async throws -> Bool { throw Gone() }
    func eraseCustomer(_ customer: CustomerID, by actor: String, at now: Instant) async throws -> ErasureStatus { throw Gone() }
    func erasureStatus(of customer: CustomerID) async throws -> ErasureStatus? { throw Gone() }
    func auditTrail(_ query: AuditQuery, limit: Int) async throws -> [AuditEvent] { throw Gone() }
    func recordAccess(_ action: AuditEvent.Action, by actor: String, customer: CustomerID?, token: String?, detail: String?, at: Instant)
        async throws
    { throw Gone() }
    func exportState() async throws -> String { throw Gone() }
    func compact(_ policy: CompactionPolicy, at now: Instant) async throws -> CompactionReport { throw Gone() }
    func cursorKey() async throws -> [UInt8] { throw Gone() }
    func checkReady() async throws { throw Gone() }
    func statistics() async throws -> StorageStatistics { throw Gone() }
}
