import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore
@testable import OxpeckerSync
import Synchronization
import Testing

/// The sync client as a library, against the real server running live in this
/// process (a real socket, real SQLite files), with faults injected between
/// them by ``FaultyTransport``.
@Suite("End to end: SyncClient against a live server, with faults", .serialized)
struct EndToEndSyncClientTests {
    /// Retries at once, so tests do not wait.
    static let quickRetry = RetryPolicy(
        maximumAttempts: 5, maximumElapsed: .seconds(30), initialDelay: .milliseconds(1), maximumDelay: .milliseconds(5))

    @Test("lost answers, dropped requests, 503 and 429: retried; the server logs each change once; duplicates are acknowledged", arguments: ServerBackend.all)
    func retriesNeverDuplicate(backend: ServerBackend) async throws {
        try await LiveServer.run(backend) { server in
            let store = try server.newStore("a")
            try await addCustomers(120, to: store)
            let outbox = try await store.read { try $0.outboxCount() }
            let transport = FaultyTransport(try HTTPSyncTransport(server: server.url)) { path, index in
                guard path == "/v1/push" else { return index == 0 ? .answer(status: 503, code: "unavailable", retryAfter: nil) : nil }
                switch index {
                case 0: return .loseAnswer  // the server stores the batch; the client never hears of it
                case 2: return .dropRequest
                case 3: return .answer(status: 429, code: "rate_limited", retryAfter: "0")
                case 5: return .answer(status: 500, code: "internal_error", retryAfter: nil)
                default: return nil
                }
            }
            var configuration = SyncConfiguration(server: server.url, token: server.token, retry: Self.quickRetry)
            configuration.pushBatchSize = 100
            let client = SyncClient(store: store, configuration: configuration, transport: transport)
            let summary = try await client.sync()

            #expect(summary.pushed == outbox)
            #expect(summary.duplicates == 100, "the batch whose answer was lost comes back as duplicates")
            #expect(summary.pending == 0)
            #expect(try await store.read { try $0.outboxCount() } == 0)
            let logged = try await server.loggedNumbers(of: store.replica)
            #expect(logged == Array(1...Int64(outbox)), "each change logged exactly once, in order")
            let pushes = transport.sent.filter { $0.path == "/v1/push" }
            #expect(pushes[0].body == pushes[1].body, "a retry resends the same changes")
        }
    }

    @Test("a push is split to fit the server's max_changes_per_push and max_body_bytes", arguments: ServerBackend.all)
    func batchesFitTheServersLimits(backend: ServerBackend) async throws {
        var limits = WireLimits.standard
        limits.maximumChangesPerPush = 7
        limits.maximumBodyBytes = 4096
        try await LiveServer.run(backend, limits: limits) { server in
            let store = try server.newStore("a")
            try await addCustomers(40, to: store, noteCharacters: 900)
            let outbox = try await store.read { try $0.outboxCount() }
            let transport = FaultyTransport(try HTTPSyncTransport(server: server.url)) { _, _ in nil }
            let client = SyncClient(
                store: store, configuration: SyncConfiguration(server: server.url, token: server.token, retry: Self.quickRetry),
                transport: transport)
            let summary = try await client.sync()
            #expect(summary.pushed == outbox)
            let pushes = transport.sent.filter { $0.path == "/v1/push" }
            for push in pushes {
                #expect(push.body.count <= 4096)
                #expect(try WireCodec().decode(PushRequest.self, from: push.body).items.count <= 7)
            }
            #expect(pushes.contains { $0.body.count > 3000 }, "batches are filled up to the byte limit")
            #expect(try await server.loggedNumbers(of: store.replica) == Array(1...Int64(outbox)))
        }
    }

    @Test("a refused request: a typed error with the code, the message and the request id, not retried")
    func refusalIsTyped() async throws {
        try await LiveServer.run { server in
            let store = try server.newStore("a")
            try await addCustomers(1, to: store)
            let transport = FaultyTransport(try HTTPSyncTransport(server: server.url)) { _, _ in nil }
            let client = SyncClient(
                store: store, configuration: SyncConfiguration(server: server.url, token: "oxp_wrong", retry: Self.quickRetry),
                transport: transport)
            do {
                try await client.sync()
                Issue.record("a bad token must fail the sync")
            } catch SyncError.refused(let refusal) {
                #expect(refusal.status == 401 && refusal.code == .unauthorized && refusal.endpoint == "/v1/hello")
                #expect(!refusal.message.isEmpty && refusal.requestID?.isEmpty == false)
            }
            #expect(transport.sent.count == 1, "a 401 is not retried")
        }
    }

    @Test("a server that keeps failing: bounded retries, then SyncError.unreachable with the last failure")
    func unreachableIsBounded() async throws {
        try await LiveServer.run { server in
            let store = try server.newStore("a")
            let transport = FaultyTransport(try HTTPSyncTransport(server: server.url)) { _, _ in
                .answer(status: 503, code: "unavailable", retryAfter: nil)
            }
            let client = SyncClient(
                store: store, configuration: SyncConfiguration(server: server.url, token: server.token, retry: Self.quickRetry),
                transport: transport)
            await #expect {
                try await client.sync()
            } throws: { error in
                guard case SyncError.unreachable(let failure) = error else { return false }
                return failure.attempts == 5 && failure.lastStatus == 503 && failure.lastCode == .unavailable
            }
            #expect(transport.sent.count == 5)
        }
    }

    @Test("an interrupted bootstrap resumes from the stored page; pages and pulls apply exactly the server's state", arguments: ServerBackend.all)
    func bootstrapResumes(backend: ServerBackend) async throws {
        try await LiveServer.run(backend) { server in
            let writer = try server.newStore("writer")
            try await addCustomers(9, to: writer)
            try await SyncClient(
                store: writer, configuration: SyncConfiguration(server: server.url, token: server.token, retry: Self.quickRetry),
                transport: try HTTPSyncTransport(server: server.url)
            ).sync()

            let fresh = try server.newStore("fresh")
            var configuration = SyncConfiguration(server: server.url, token: server.token, retry: Self.quickRetry)
            configuration.bootstrapPageSize = 2
            let failing = FaultyTransport(try HTTPSyncTransport(server: server.url)) { path, index in
                path == "/v1/bootstrap" && index >= 2 ? .refuse(status: 403, code: "forbidden") : nil
            }
            await #expect(throws: SyncError.self) { try await SyncClient(store: fresh, configuration: configuration, transport: failing).sync() }
            let checkpoint = try await fresh.read { try $0.syncCheckpoint() }
            #expect(!checkpoint.bootstrapped && checkpoint.bootstrapPage != nil)
            #expect(try await fresh.read { try $0.customers(matching: CustomerFilter(limit: 100)).count } == 4)

            let resuming = FaultyTransport(try HTTPSyncTransport(server: server.url)) { _, _ in nil }
            let summary = try await SyncClient(store: fresh, configuration: configuration, transport: resuming).sync()
            #expect(summary.bootstrappedCustomers == 5, "only the pages not stored yet")
            let firstPage = try WireCodec().decode(BootstrapRequest.self, from: try #require(resuming.sent.first { $0.path == "/v1/bootstrap" }).body)
            #expect(firstPage.page?.rawValue == checkpoint.bootstrapPage)
            #expect(try await fresh.read { try $0.syncCheckpoint() }.bootstrapped)
            #expect(try await export(fresh) == server.storage.exportState())

            // A later change on the writer arrives by pull.
            try await writer.write { try $0.set(ProfileField.preferredName, to: "Later", of: "c-0003") }
            try await SyncClient(store: writer, configuration: configuration, transport: try HTTPSyncTransport(server: server.url)).sync()
            let pulled = try await SyncClient(store: fresh, configuration: configuration, transport: try HTTPSyncTransport(server: server.url)).sync()
            #expect(pulled.pulled == 1 && pulled.applied == 1)
            #expect(try await export(fresh) == export(writer))
        }
    }

    @Test("a bootstrap whose stored page expired starts again from a cleared store: a customer that left the scopes meanwhile does not stay behind", arguments: ServerBackend.all)
    func expiredBootstrapStartsClean(backend: ServerBackend) async throws {
        try await LiveServer.run(backend) { server in
            let writer = try server.newStore("writer")
            try await addCustomers(6, to: writer)
            let plain = SyncConfiguration(server: server.url, token: server.token, retry: Self.quickRetry)
            try await SyncClient(store: writer, configuration: plain, transport: try HTTPSyncTransport(server: server.url)).sync()

            let fresh = try server.newStore("fresh")
            var configuration = plain
            configuration.bootstrapPageSize = 2
            let failing = FaultyTransport(try HTTPSyncTransport(server: server.url)) { path, index in
                path == "/v1/bootstrap" && index >= 2 ? .refuse(status: 403, code: "forbidden") : nil
            }
            await #expect(throws: SyncError.self) { try await SyncClient(store: fresh, configuration: configuration, transport: failing).sync() }
            #expect(try await fresh.read { try $0.customers(matching: CustomerFilter(limit: 100)).map(\.id) } == ["c-0000", "c-0001", "c-0002", "c-0003"])

            // Meanwhile c-0000 leaves the device's scopes, and the stored page stops being one the server knows.
            try await writer.write { writer in
                try writer.add("branch:XX99", to: .scopes, of: "c-0000")
                try writer.remove(testScope, from: .scopes, of: "c-0000")
            }
            try await SyncClient(store: writer, configuration: plain, transport: try HTTPSyncTransport(server: server.url)).sync()
            try await fresh.write { writer in
                var checkpoint = try writer.syncCheckpoint()
                checkpoint.bootstrapPage = "snap.0.999.1.c-0003.notasealnotasealnotas"
                try writer.saveCheckpoint(checkpoint)
            }

            try await SyncClient(store: fresh, configuration: configuration, transport: try HTTPSyncTransport(server: server.url)).sync()
            let held = try await fresh.read { try $0.customers(matching: CustomerFilter(limit: 100)).map(\.id) }
            #expect(held == ["c-0001", "c-0002", "c-0003", "c-0004", "c-0005"], "c-0000 is outside the scopes and no pull would ever purge it")
            // And it stays so: later pulls change nothing.
            try await SyncClient(store: fresh, configuration: configuration, transport: try HTTPSyncTransport(server: server.url)).sync()
            #expect(try await fresh.read { try $0.customers(matching: CustomerFilter(limit: 100)).map(\.id) } == held)
        }
    }

    @Test("changes refused for now (clock_skew) stay in the outbox and are reported, not put aside", arguments: ServerBackend.all)
    func transientRejectionsStay(backend: ServerBackend) async throws {
        try await LiveServer.run(backend) { server in
            let ahead = WallClock { WallClock.system.now() + 3 * 3_600_000 }
            let skewed = try CustomerStore.create(at: server.folder.path("skewed.oxpecker"), options: StoreOptions(clock: ahead))
            try await addCustomers(2, to: skewed)
            let outbox = try await skewed.read { try $0.outboxCount() }
            let client = SyncClient(
                store: skewed, configuration: SyncConfiguration(server: server.url, token: server.token, retry: Self.quickRetry),
                transport: try HTTPSyncTransport(server: server.url))
            let summary = try await client.sync()
            #expect(summary.pushed == 0)
            #expect(summary.rejections.count == outbox)
            #expect(summary.rejections.allSatisfy { $0.reason == .clockSkew && !$0.permanent })
            #expect(summary.pending == outbox)
            #expect(try await skewed.read { try $0.outboxCount() } == outbox)
            #expect(try await skewed.read { try $0.pushRejections() }.isEmpty)
        }
    }

    @Test("a device whose clock ran three hours ahead is refused, then syncs everything once its clock is fixed; a later edit elsewhere still wins", arguments: ServerBackend.all)
    func clockRecovery(backend: ServerBackend) async throws {
        try await LiveServer.run(backend) { server in
            let skew = DeviceSkew(3 * 3_600_000)
            let deviceClock = WallClock { WallClock.system.now() + skew.millis }
            let laptop = try CustomerStore.create(at: server.folder.path("laptop.oxpecker"), options: StoreOptions(clock: deviceClock))
            let customer: CustomerID = "c-0001"
            try await laptop.write { writer in
                try writer.createCustomer(customer, in: [testScope])
                try writer.set(.legalName, to: "Jana Nováková", of: customer)
                try writer.set(.preferredName, to: "Jana", of: customer)
                try writer.add("sailing", to: .interests, of: customer)
                try writer.remove("sailing", from: .interests, of: customer)
                try writer.addNote(NewNote(text: "wants a mortgage", author: "a-417", channel: .branch), to: customer)
                try writer.recordConsent(.granted, for: .marketing, source: "branch form", of: customer)
            }
            let configuration = SyncConfiguration(server: server.url, token: server.token, retry: Self.quickRetry)
            let client = SyncClient(store: laptop, configuration: configuration, transport: try HTTPSyncTransport(server: server.url))

            // Still ahead: refused, nothing restamped, told to fix the clock.
            let refused = try await client.sync()
            let written = try await laptop.read { try $0.outboxCount() }
            #expect(refused.pushed == 0 && refused.pending == written)
            #expect(refused.rejections.count == written && refused.rejections.allSatisfy { $0.reason == .clockSkew })
            guard case .deviceClockAhead(let ahead, let allowance) = refused.clockRecoveries.first else {
                Issue.record("expected deviceClockAhead, got \(refused.clockRecoveries)")
                return
            }
            #expect(ahead > 3 * 3_600_000 - 60_000 && allowance == 300_000)

            // The clock is fixed; an edit made now is still stamped three hours ahead by the HLC.
            skew.millis = 0
            try await laptop.write { try $0.addNote(NewNote(text: "called back", author: "a-417", channel: .phone), to: customer) }
            let pending = try await laptop.read { try $0.outbox() }
            #expect(pending.last!.hlc.wallMillis > WallClock.system.now() + 2 * 3_600_000)

            let recovered = try await client.sync()
            #expect(recovered.rejections.isEmpty, "\(recovered.rejections)")
            #expect(recovered.pushed == pending.count && recovered.pending == 0)
            guard case .restamped(let report) = recovered.clockRecoveries.first, recovered.clockRecoveries.count == 1 else {
                Issue.record("expected one restamp, got \(recovered.clockRecoveries)")
                return
            }
            #expect(report.restamped == pending.count)
            #expect(report.shiftMillis.map { $0.lowerBound > 3 * 3_600_000 - 120_000 && $0.upperBound < 3 * 3_600_000 + 120_000 } == true)
            #expect(try await server.loggedNumbers(of: laptop.replica) == pending.map(\.number), "every change taken, under its number, in order")
            #expect(try await laptop.read { try $0.lastTimestamp() }!.wallMillis <= WallClock.system.now() + 300_000)

            // Another device gets the same state; its later real edit wins over the restamped one.
            let phone = try server.newStore("phone")
            let phoneClient = SyncClient(store: phone, configuration: configuration, transport: try HTTPSyncTransport(server: server.url))
            try await phoneClient.sync()
            #expect(try await export(phone) == export(laptop))
            try await Task.sleep(for: .milliseconds(5))
            try await phone.write { try $0.set(.preferredName, to: "Jana N.", of: customer) }
            try await phoneClient.sync()
            try await client.sync()
            #expect(try await laptop.read { try $0.profile(of: customer) }[.preferredName] == "Jana N.")
            #expect(try await laptop.read { try $0.profile(of: customer) }.elements(of: .interests).isEmpty, "the removal still removes")
            #expect(try await export(phone) == export(laptop))
        }
    }

    @Test("a push answered clock_skew that the handshake did not foresee: a new handshake, the recovery, and one more push", arguments: ServerBackend.all)
    func clockSkewAfterTheHandshake(backend: ServerBackend) async throws {
        try await LiveServer.run(backend) { server in
            let skew = DeviceSkew(3 * 3_600_000)
            let laptop = try CustomerStore.create(
                at: server.folder.path("laptop.oxpecker"), options: StoreOptions(clock: WallClock { WallClock.system.now() + skew.millis }))
            try await addCustomers(3, to: laptop)
            skew.millis = 0
            let written = try await laptop.read { try $0.outboxCount() }
            // The first handshake announces a day of allowance: nothing looks ahead, so the push is refused.
            let transport = AllowanceRewritingTransport(try HTTPSyncTransport(server: server.url), firstAllowance: 86_400_000)
            let client = SyncClient(
                store: laptop, configuration: SyncConfiguration(server: server.url, token: server.token, retry: Self.quickRetry), transport: transport)
            let summary = try await client.sync()
            #expect(transport.hellos == 2, "a second handshake measures the server again")
            #expect(summary.rejections.isEmpty, "the refusals of the first push give way to the second push's answers")
            #expect(summary.pushed == written && summary.pending == 0)
            #expect(summary.clockRecoveries.count == 1)
            if case .restamped(let report) = summary.clockRecoveries.first { #expect(report.restamped == written) } else {
                Issue.record("\(summary.clockRecoveries)")
            }
            #expect(try await server.loggedNumbers(of: laptop.replica) == Array(1...Int64(written)))
        }
    }

    @Test("retry delays grow exponentially with jitter, stay within the cap, and honour Retry-After")
    func retryDelays() {
        let policy = RetryPolicy(initialDelay: .milliseconds(200), maximumDelay: .seconds(10), multiplier: 2)
        #expect(policy.delay(afterAttempt: 1, random: 0) == .milliseconds(100))
        #expect(policy.delay(afterAttempt: 1, random: 1) == .milliseconds(200))
        #expect(policy.delay(afterAttempt: 3, random: 1) == .milliseconds(800))
        #expect(policy.delay(afterAttempt: 30, random: 1) == .seconds(10))
        #expect(policy.delay(afterAttempt: 30, random: 0) == .seconds(5))
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(3), random: 0.5) == .seconds(3))
    }

    @Test("push results: accepted and duplicate acknowledge; out_of_scope, invalid_change and replica_conflict are put aside; the rest stays")
    func pushVerdicts() throws {
        let replica: ReplicaID = "r-test"
        let changes = try (1...8).map { number in
            Change(
                replica: replica, number: Int64(number), hlc: try HybridTimestamp(wallMillis: 1_764_000_000_000 + Int64(number), counter: 0, replica: replica),
                customer: "c-1", entity: .profile, field: "stage", record: nil, kind: .register, value: "active")
        }
        let response = PushResponse(
            results: [
                PushResult(number: 1, outcome: .accepted), PushResult(number: 2, outcome: .duplicate),
                PushResult(number: 3, outcome: .rejected, reason: .outOfScope, message: "no"),
                PushResult(number: 4, outcome: .rejected, reason: .invalidChange, message: "no"),
                PushResult(number: 5, outcome: .rejected, reason: .clockSkew, message: "later"),
                PushResult(number: 6, outcome: .rejected, reason: .unsupportedKind, message: "later"),
                PushResult(number: 7, outcome: PushOutcome(unchecked: "deferred")),
                PushResult(number: 8, outcome: .rejected, reason: .replicaConflict, message: "copied store"),
                PushResult(number: 99, outcome: .accepted),
            ], acknowledgedThrough: 2)
        let verdict = PushVerdict(batch: changes, response: response)
        #expect(verdict.acknowledged == [1, 2] && verdict.duplicates == 1)
        #expect(verdict.rejections.filter(\.permanent).map(\.number) == [3, 4, 8])
        #expect(verdict.rejections.filter { !$0.permanent }.map(\.number) == [5, 6, 7])
        #expect(verdict.unexpectedNumbers == [99])
    }
}

/// The real transport, but the first handshake's answer announces `firstAllowance` as the
/// server's clock-skew allowance (a server whose instances disagree, or whose allowance changed).
final class AllowanceRewritingTransport: SyncTransport {
    private let inner: HTTPSyncTransport
    private let firstAllowance: Int64
    private let helloCount = Mutex(0)

    init(_ inner: HTTPSyncTransport, firstAllowance: Int64) {
        self.inner = inner
        self.firstAllowance = firstAllowance
    }

    /// How many handshakes went through.
    var hellos: Int { helloCount.withLock { $0 } }

    func post(path: String, body: [UInt8], headers: [(name: String, value: String)]) async throws -> TransportResponse {
        var response = try await inner.post(path: path, body: body, headers: headers)
        guard path == "/v1/hello", helloCount.withLock({ count in
            count += 1
            return count
        }) == 1 else { return response }
        var hello = try WireCodec().decode(HelloResponse.self, from: response.body)
        hello.maximumClockSkewMillis = firstAllowance
        response.body = WireCodec().encode(hello)
        return response
    }
}

/// How far a device's clock runs ahead of the system's, set by the test.
final class DeviceSkew: Sendable {
    private let value: Mutex<Int64>
    init(_ millis: Int64) { value = Mutex(millis) }
    var millis: Int64 {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}

/// The real server, live on a loopback port in this process, with one device token.
struct LiveServer: Sendable {
    let url: String
    let token: String
    let storage: any ServerStorage
    /// Device stores live here, and the SQLite backend's data directory (`data`).
    let folder: ScratchFolder

    /// Runs `body` with a server on a new database of `backend`; stops it and removes the database afterwards.
    static func run(
        _ backend: ServerBackend = .sqlite, limits: WireLimits = .standard, compaction: CompactionSchedule? = CompactionSchedule(),
        _ body: @escaping @Sendable (LiveServer) async throws -> Void
    ) async throws {
        let folder = try ScratchFolder()
        let database = try await TestDatabase.make(backend, dataDirectory: folder.path("data"))
        let storage = try await database.openStorage()
        do {
            let token = try await storage.createToken(
                name: "device", scopes: [testScope], expiresAt: nil, now: Instant(millisecondsSince1970: WallClock.system.now()))
            var logger = Logger(label: "oxpecker-server-test")
            logger.logLevel = .warning
            var configuration = ServerConfiguration(port: 0, dataDirectory: folder.path("data"), limits: limits)
            configuration.compaction = compaction
            let app = try await buildApplication(configuration: configuration, storage: storage, logger: logger)
            try await app.test(.live) { client in
                let port = try #require(client.port)
                try await body(LiveServer(url: "http://127.0.0.1:\(port)", token: token.secret, storage: storage, folder: folder))
            }
        } catch {
            await database.remove(closing: [storage])
            throw error
        }
        await database.remove(closing: [storage])
    }

    /// A new store in the server's scratch folder.
    func newStore(_ name: String) throws -> CustomerStore {
        try CustomerStore.create(at: folder.path("\(name).oxpecker"))
    }

    /// The numbers of `replica`'s changes in the server's log, in log order.
    func loggedNumbers(of replica: ReplicaID) async throws -> [Int64] {
        try await loggedChanges(token: token).filter { $0.replica == replica }.map(\.number)
    }

    /// Every change in the server's log, read by pulling from its very start with `token`.
    func loggedChanges(token: String) async throws -> [ChangeItem] {
        try await wholeLog(of: url, token: token)
    }
}

/// Adds `count` customers (`c-0000` …) with a name, a stage, an interest and a note each.
func addCustomers(_ count: Int, to store: CustomerStore, noteCharacters: Int = 20) async throws {
    try await store.write { writer in
        for index in 0..<count {
            let id = CustomerID(unchecked: String(format: "c-%04d", index))
            try writer.createCustomer(id, in: [testScope])
            try writer.set(ProfileField.legalName, to: "Customer \(index)", of: id)
            try writer.add("sailing", to: .interests, of: id)
            _ = try writer.set(try #require(FieldCatalog.descriptor(named: "stage")), to: "active", of: id)
            _ = try writer.addNote(NewNote(text: String(repeating: "n", count: noteCharacters), author: "a-417", channel: .branch), to: id)
        }
    }
}

/// The store's `export --json` text.
func export(_ store: CustomerStore) async throws -> String {
    try await store.read { reader in
        var text = ""
        try reader.exportJSON { text += $0 }
        return text
    }
}
