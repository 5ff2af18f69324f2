import Foundation
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore
import OxpeckerSync
import Synchronization
import Testing

/// Several real `oxpecker-server` processes over one PostgreSQL database: any
/// instance takes any request, the log's order stays safe under concurrent
/// writers, an instance may die, the database may restart.
@Suite("PostgreSQL: many instances, one truth", .serialized)
struct MultiInstanceTests {
    static let enabled = ServerBackend.postgresURL != nil

    @Test("PostgreSQL unreachable at start: a message naming the database (never its password) and exit status 4; a bad URL is a usage error")
    func unreachableAtStart() async throws {
        let folder = try ScratchFolder()
        // Port 1 on loopback: nothing listens there.
        let down = try await ChildProcess(
            BuiltProducts.server, ["serve", "--port", "0", "--postgres", "postgres://oxp:secret@127.0.0.1:1/nothing", "--postgres-timeout", "2"],
            in: folder.url
        ).wait(timeout: .seconds(60))
        #expect(down.status == 4 && !down.signaled, "exit status: \(down.status) \(down.stderr)")
        #expect(down.stderr.contains("cannot reach PostgreSQL at postgres://oxp@127.0.0.1:1/nothing"), "\(down.stderr)")
        #expect(!down.stderr.contains("secret"))
        #expect(!down.stdout.contains("listening"))
        let bad = try await ChildProcess(BuiltProducts.server, ["migrate", "--postgres", "mysql://localhost/x"], in: folder.url)
            .wait(timeout: .seconds(60))
        #expect(!bad.succeeded && bad.stderr.contains("postgres://user:password@host:5432/database"), "\(bad.stderr)")
    }

    @Test(
        "two instances, 8 pushers and 4 pullers spread over both, random delays: every puller gets every accepted change exactly once (10k+ changes)",
        .enabled(if: enabled, ServerBackend.postgresSkipReason))
    func noChangeSkippedAcrossInstances() async throws {
        let a = try await SyncServerProcess.start(.postgres)
        let b = try await SyncServerProcess.start(sharingDatabaseWith: a)
        defer { b.killNow(); a.killNow() }
        let token = try await a.createToken(name: "load")
        let urls = [a.url, b.url]
        let customers = 97
        // The customers first, each added to the token's scope (a customer's first change).
        let setup = try (1...Int64(customers)).map { try scopeChange($0, replica: "r-setup", customer: CustomerID(unchecked: "c-\($0 - 1)")) }
        let created = try await HTTPSyncTransport(server: a.url).post(
            path: "/v1/push", body: WireCodec().encode(PushRequest(replica: "r-setup", changes: setup)), headers: Self.headers(token))
        try #require(created.status == 200)

        let pushers = 8, perPusher: Int64 = 1300
        let pushing = Shared(true)
        let (accepted, pulled) = try await withThrowingTaskGroup(of: (accepted: [String], pulled: [String]?).self) { group in
            for pusher in 0..<pushers {
                group.addTask {
                    var random = SplitMix(seed: UInt64(pusher) &+ 77)
                    let replica = ReplicaID(unchecked: "r-\(pusher)")
                    let transports = try urls.map { try HTTPSyncTransport(server: $0) }
                    var sent: Int64 = 0
                    var accepted: [String] = []
                    while sent < perPusher {
                        let size = min(Int64.random(in: 1...150, using: &random), perPusher - sent)
                        // Each pusher writes its own twelve customers: no two pushes wait for each other
                        // (nor for a shared row), so they commit in any order, and only the rule that a puller
                        // reads the log's stable rows (PostgresSchema.stable) keeps it from skipping one.
                        let changes = try (sent + 1...sent + size).map { number in
                            try fieldChange(
                                number, replica: replica, customer: CustomerID(unchecked: "c-\(pusher * 12 + Int(number % 12))"),
                                value: .string("v\(number)"))
                        }
                        let response = try await transports[Int.random(in: 0...1, using: &random)].post(
                            path: "/v1/push", body: WireCodec().encode(PushRequest(replica: replica, changes: changes)), headers: Self.headers(token))
                        try #require(response.status == 200, "push: HTTP \(response.status) \(String(decoding: response.body, as: UTF8.self))")
                        let results = try WireCodec().decode(PushResponse.self, from: response.body).results
                        accepted += results.filter { $0.outcome == .accepted }.map { "\(replica)#\($0.number)" }
                        sent += size
                        try await Task.sleep(for: .milliseconds(Int.random(in: 0...6, using: &random)))
                    }
                    return (accepted, nil)
                }
            }
            for puller in 0..<4 {
                group.addTask {
                    var random = SplitMix(seed: UInt64(puller) &+ 991)
                    let transport = try HTTPSyncTransport(server: urls[puller % 2])
                    var cursor: SyncCursor?
                    var seen: [String] = []
                    var caughtUpAfterPushes = false
                    while !caughtUpAfterPushes {
                        // Read before pulling: a pull that starts after every push ended and finds nothing more has everything.
                        let finished = !pushing.value
                        let response = try await transport.post(
                            path: "/v1/pull", body: WireCodec().encode(PullRequest(after: cursor, limit: Int.random(in: 20...700, using: &random))),
                            headers: Self.headers(token))
                        try #require(response.status == 200, "pull: HTTP \(response.status)")
                        let page = try WireCodec().decode(PullResponse.self, from: response.body)
                        seen += page.items.filter { $0.replica != "r-setup" }.map { "\($0.replica)#\($0.number)" }
                        cursor = page.nextCursor
                        caughtUpAfterPushes = finished && !page.hasMore
                        if !page.hasMore { try await Task.sleep(for: .milliseconds(Int.random(in: 0...4, using: &random))) }
                    }
                    return ([], seen)
                }
            }
            var accepted: [String] = []
            var pulled: [[String]] = []
            var pushersLeft = pushers
            for try await result in group {
                if let seen = result.pulled {
                    pulled.append(seen)
                } else {
                    accepted += result.accepted
                    pushersLeft -= 1
                    if pushersLeft == 0 { pushing.set(false) }
                }
            }
            return (accepted, pulled)
        }

        #expect(accepted.count == pushers * Int(perPusher), "every change is new, so every one is accepted")
        let expected = Checksum(accepted)
        #expect(pulled.count == 4)
        for (index, seen) in pulled.enumerated() {
            let got = Checksum(seen)
            #expect(got == expected, "puller \(index): \(got); accepted \(expected)")
            #expect(Set(seen).count == seen.count, "puller \(index) got a change twice")
        }
    }

    @Test(
        "SIGKILL of one instance mid-push: the retry against the other instance loses and duplicates nothing",
        .enabled(if: enabled, ServerBackend.postgresSkipReason))
    func instanceKilledMidPush() async throws {
        let a = try await SyncServerProcess.start(.postgres)
        let b = try await SyncServerProcess.start(sharingDatabaseWith: a)
        defer { b.killNow(); a.killNow() }
        let tokenA = try await a.createToken(name: "laptop-a")
        let tokenB = try await b.createToken(name: "laptop-b")
        let folder = try ScratchFolder()
        let (laptop, replica) = try await DeviceCLI.create(in: folder, named: "a.oxpecker")
        let (other, _) = try await DeviceCLI.create(in: folder, named: "b.oxpecker")
        let lines = (0..<500).map { index in
            JSONValue.object([
                "id": .string(String(format: "c-%05d", index)),
                "fields": ["legal_name": .string("Customer \(index)"), "stage": "active", "preferred_name": .string("C\(index)")],
                "sets": ["interests": ["sailing"], "scopes": [.string(testScope)]],
                "notes": [["text": .string("Note \(index)"), "author": "a-417", "channel": "branch"]],
            ]).canonicalText
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: folder.path("customers.ndjson"), atomically: true, encoding: .utf8)
        try await laptop.ok(["import", "customers.ndjson", "--durability", "normal"])
        let total = try await laptop.outboxCount()

        let sync = try laptop.start(["sync", "--server", a.url, "--token", tokenA, "--retry-for", "2", "--max-attempts", "3"])
        let pushing = try await sync.waitForOutput(timeout: .seconds(120)) { _, stderr in stderr.contains("sync: pushed") }
        try #require(pushing, "no push progress: \(sync.stderrSoFar)")
        a.killNow()
        let interrupted = try await sync.wait()
        #expect(interrupted.status == 7, "the sync fails while its instance is dead: \(interrupted.stderr)")
        let left = try await laptop.outboxCount()
        #expect(left > 0 && left < total, "the kill should land mid-push: \(left) of \(total) left")

        // The same device, same token, now through the other instance.
        let resumed = try await laptop.sync(b, token: tokenA)
        #expect(resumed.integer("pushed") == Int64(left))
        #expect(resumed.integer("pending") == 0)
        let logged = try await b.loggedChanges(token: tokenB).filter { $0.replica == replica }
        #expect(logged.count == total, "the log holds \(logged.count) of the device's changes, not \(total)")
        #expect(Set(logged.map(\.number)) == Set(1...Int64(total)))
        _ = try await other.sync(b, token: tokenB)
        #expect(try await laptop.exportBytes() == other.exportBytes())
        #expect(try await b.exportState() == laptop.exportBytes())
    }

    @Test(
        "PostgreSQL restarted under load: requests in flight get 503 storage_unavailable, the server recovers without a restart, nothing acknowledged is lost",
        .enabled(if: enabled && PostgresCluster.available, ServerBackend.postgresSkipReason))
    func databaseRestartedUnderLoad() async throws {
        // A cluster of its own: restarting the shared one would fail every other test's requests.
        let cluster = try await PostgresCluster.start()
        do {
            try await Self.pushThroughRestart(of: cluster)
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }

    private static func pushThroughRestart(of cluster: PostgresCluster) async throws {
        let folder = try ScratchFolder()
        let database = try TestDatabase.postgres(at: cluster.url, dataDirectory: folder.path("data"))
        let server = try await SyncServerProcess.start(on: database, serveOptions: ["--postgres-timeout", "2"])
        defer { server.killNow() }
        let token = try await server.createToken(name: "load")
        let customers: Int64 = 31
        let setup = try (1...customers).map { try scopeChange($0, replica: "r-setup", customer: CustomerID(unchecked: "c-\($0 - 1)")) }
        let created = try await HTTPSyncTransport(server: server.url).post(
            path: "/v1/push", body: WireCodec().encode(PushRequest(replica: "r-setup", changes: setup)), headers: Self.headers(token))
        try #require(created.status == 200)

        let pushers = 4, perPusher: Int64 = 600, batch: Int64 = 20
        let progress = Shared(0)
        let failures = Shared<[String]>([])
        let restart = Task {
            while progress.value < 20 { try await Task.sleep(for: .milliseconds(5)) }
            try await cluster.restart()
            progress.set(-1_000_000)  // the pushes after the restart are counted from here
        }
        let acknowledged = try await withThrowingTaskGroup(of: [String].self) { group in
            for pusher in 0..<pushers {
                group.addTask {
                    let replica = ReplicaID(unchecked: "r-\(pusher)")
                    let transport = try HTTPSyncTransport(server: server.url)
                    var sent: Int64 = 0
                    var acknowledged: [String] = []
                    var attempts = 0
                    while sent < perPusher {
                        attempts += 1
                        try #require(attempts < 3000, "the server never recovered")
                        let changes = try (sent + 1...sent + batch).map { number in
                            try fieldChange(number, replica: replica, customer: CustomerID(unchecked: "c-\(number % customers)"), value: .string("v\(number)"))
                        }
                        let response = try await transport.post(
                            path: "/v1/push", body: WireCodec().encode(PushRequest(replica: replica, changes: changes)), headers: Self.headers(token))
                        guard response.status == 200 else {
                            let code = (try? WireCodec().decode(ErrorEnvelope.self, from: response.body))?.code.rawValue ?? "none"
                            failures.update { $0.append("\(response.status) \(code)") }
                            try await Task.sleep(for: .milliseconds(20))
                            continue  // the same batch again
                        }
                        let results = try WireCodec().decode(PushResponse.self, from: response.body).results
                        acknowledged += results.filter { $0.outcome == .accepted || $0.outcome == .duplicate }.map { "\(replica)#\($0.number)" }
                        sent += batch
                        progress.update { $0 += 1 }
                    }
                    return acknowledged
                }
            }
            var all: [String] = []
            for try await part in group { all += part }
            return all
        }
        try await restart.value

        let failed = failures.value
        #expect(!failed.isEmpty, "some requests were in flight or sent while the database was down")
        #expect(failed.allSatisfy { $0 == "503 storage_unavailable" }, "every failure is 503 storage_unavailable: \(Set(failed))")
        #expect(progress.value > -1_000_000, "pushes succeeded after the restart")
        #expect(server.isRunning, "the server recovered without a restart of its own")
        #expect(Set(acknowledged).count == pushers * Int(perPusher))
        let logged = try await server.loggedChanges(token: token).filter { $0.replica != "r-setup" }
        #expect(Checksum(logged.map { "\($0.replica)#\($0.number)" }) == Checksum(Array(Set(acknowledged))), "the log holds each acknowledged change once")
    }

    static func headers(_ token: String) -> [(name: String, value: String)] {
        [("Oxpecker-Protocol", "1"), ("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]
    }
}

/// A value shared by a test's concurrent tasks.
final class Shared<Value: Sendable>: Sendable {
    private let state: Mutex<Value>
    init(_ value: Value) { state = Mutex(value) }
    var value: Value { state.withLock { $0 } }
    func set(_ value: Value) { state.withLock { $0 = value } }
    func update(_ body: (inout Value) -> Void) { state.withLock { body(&$0) } }
}

/// A count and an order-independent checksum (sum of FNV-1a hashes) of change keys.
struct Checksum: Equatable, CustomStringConvertible {
    let count: Int
    let value: UInt64

    init(_ keys: [String]) {
        count = keys.count
        value = keys.reduce(0) { sum, key in
            sum &+ key.utf8.reduce(0xcbf2_9ce4_8422_2325 as UInt64) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
        }
    }

    var description: String { "\(count) changes, checksum \(value)" }
}
