import Foundation
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore
@testable import OxpeckerSync
import Testing

/// The log compaction rule (`CompactionPolicy`), on each backend, with the storage's
/// clock given explicitly: what goes, what stays, and what a device then sees.
@Suite("Log compaction", .serialized)
struct CompactionTests {
    static let day: Int64 = 86_400_000
    /// When the changes are received (after their stamps).
    static let start: Int64 = 1_764_000_100_000

    static func at(_ days: Int64, plus millis: Int64 = 0) -> Instant {
        Instant(millisecondsSince1970: start + days * day + millis)
    }

    /// One device's view of the server: its token, its store's replica and its cursor.
    struct Device {
        let storage: any ServerStorage
        let identity: DeviceIdentity
        let replica: ReplicaID
        var cursor: SyncCursor?

        /// Pulls until the server has nothing more, at `now`; returns the changes and purges received.
        mutating func pullAll(at now: Instant) async throws -> (changes: [String], purges: [CustomerID]) {
            var changes: [String] = []
            var purges: [CustomerID] = []
            while true {
                let page = try await storage.pull(after: cursor, limit: 100, for: identity, replica: replica, at: now)
                changes += page.changes
                purges += page.purges.map(\.customer)
                cursor = page.nextCursor
                if !page.hasMore { return (changes, purges) }
            }
        }

        func push(_ changes: [Change], at now: Instant) async throws -> PushResponse {
            try await storage.push(
                PushRequest(replica: replica, changes: changes), from: identity,
                policy: PushPolicy(nowMillis: now.millisecondsSince1970, maximumClockSkewMillis: 300_000))
        }
    }

    @Test("superseded writes behind the horizon, abandoned subscriptions and their records go; the state, live cursors and duplicates stay", arguments: ServerBackend.all)
    func horizon(backend: ServerBackend) async throws {
        let (storage, identity, database, folder) = try await Self.storage(backend)
        defer { database.removeLater(closing: [storage]); _ = folder }
        var a = Device(storage: storage, identity: identity, replica: "r-1")
        var b = Device(storage: storage, identity: identity, replica: "r-2")
        let c = Device(storage: storage, identity: identity, replica: "r-3")

        // c-1's preferred name written 11 times (10 superseded), c-2 as a second customer; r-3 creates c-3 and never pulls.
        var changes = [try scopeChange(1, customer: "c-1")]
        changes += try (2...12).map { try fieldChange($0, customer: "c-1", field: "preferred_name", value: .string("Name \($0)")) }
        changes += [try scopeChange(13, customer: "c-2"), try fieldChange(14, customer: "c-2", field: "preferred_name", value: "Second")]
        let first = try await a.push(changes, at: Self.at(0))
        #expect(first.results.allSatisfy { $0.outcome == .accepted }, "\(first.results)")
        #expect(try await c.push([try scopeChange(1, replica: "r-3", customer: "c-3")], at: Self.at(0)).results.first?.outcome == .accepted)
        _ = try await a.pullAll(at: Self.at(0))
        _ = try await b.pullAll(at: Self.at(0))
        let state = try await storage.exportState()
        let logged = try await storage.statistics().logChanges

        // Inside the horizon: nothing goes.
        let early = try await storage.compact(CompactionPolicy(), at: Self.at(30))
        #expect(early.removedChanges == 0 && early.removedSubscriptions == 0 && early.removedPushedCustomers == 0)
        #expect(early.logChanges == logged)

        // a syncs at day 60 (its sync is recorded though nothing is new); b never again.
        #expect(try await a.pullAll(at: Self.at(60)).changes.isEmpty)
        let report = try await storage.compact(CompactionPolicy(), at: Self.at(91))
        #expect(report.removedChanges == 10, "the 10 superseded writes of c-1's name")
        #expect(report.removedSubscriptions == 1, "b's, not synced since day 0")
        #expect(report.removedPushedCustomers == 1, "r-3's c-3: no subscription of r-3 is left")
        #expect(report.logChanges == logged - 10)
        #expect(try await storage.exportState() == state, "the state is the same")
        #expect(try await storage.statistics().horizon == Self.at(1))

        // a goes on from its cursor; b's cursor is expired (it bootstraps again).
        #expect(try await a.pullAll(at: Self.at(91)).changes.isEmpty)
        await #expect {
            _ = try await b.pullAll(at: Self.at(91))
        } throws: { ($0 as? ServerError)?.code == .cursorExpired }

        // A retry of a compacted change is a duplicate, not a new change.
        let retry = try await a.push([try fieldChange(5, customer: "c-1", field: "preferred_name", value: "Name 5")], at: Self.at(91))
        #expect(retry.results.map(\.outcome) == [.duplicate])
        #expect(try await storage.statistics().logChanges == logged - 10)

        // A new store bootstraps the same state from the compacted log.
        var d = Device(storage: storage, identity: identity, replica: "r-4")
        let pulled = try await d.pullAll(at: Self.at(91))
        let names = try pulled.changes.map { try WireCodec().decode(Change.self, from: $0) }.filter { $0.field == "preferred_name" }
        #expect(names.map(\.value).sorted { $0.canonicalText < $1.canonicalText } == ["Name 12", "Second"])
    }

    @Test("an erasure's tombstone stays while a device holds the customer, then goes after the retention", arguments: ServerBackend.all)
    func tombstones(backend: ServerBackend) async throws {
        let (storage, identity, database, folder) = try await Self.storage(backend)
        defer { database.removeLater(closing: [storage]); _ = folder }
        var a = Device(storage: storage, identity: identity, replica: "r-1")
        _ = try await a.push([try scopeChange(1, customer: "c-1"), try fieldChange(2, customer: "c-1", value: "Jana")], at: Self.at(0))
        _ = try await a.pullAll(at: Self.at(0))
        _ = try await storage.eraseCustomer("c-1", by: "admin", at: Self.at(1))

        // Day 480: a pulls the purge but has not confirmed it yet: it may still hold c-1.
        let purge = try await storage.pull(after: a.cursor, limit: 100, for: a.identity, replica: a.replica, at: Self.at(480))
        #expect(purge.purges.map(\.customer) == ["c-1"])
        a.cursor = purge.nextCursor
        var report = try await storage.compact(CompactionPolicy(), at: Self.at(492))
        #expect(report.removedTombstones == 0)
        #expect(try await storage.erasureStatus(of: "c-1") != nil)
        #expect(try await a.push([try fieldChange(3, customer: "c-1", value: "Back")], at: Self.at(480)).results.first?.reason == .customerErased)

        // a's next pull confirms the purge: the tombstone goes, the audit trail keeps the erasure.
        #expect(try await a.pullAll(at: Self.at(481)).changes.isEmpty)
        report = try await storage.compact(CompactionPolicy(), at: Self.at(492))
        #expect(report.removedTombstones == 1)
        #expect(try await storage.erasureStatus(of: "c-1") == nil)
        #expect(try await storage.auditTrail(.customer("c-1"), limit: 100).contains { $0.action == .erase })
        #expect(try await storage.statistics().purgesPending == 0)
        // A change of c-1 is now that of a customer the server does not know: not taken without a scope of its own.
        #expect(try await a.push([try fieldChange(4, customer: "c-1", value: "Back")], at: Self.at(481)).results.first?.reason == .outOfScope)
        #expect(try await storage.exportState() == (try await Self.emptyState(backend)))
    }

    /// A new storage of `backend` with one device token of `testScope`, made at day 0.
    /// (The folder holds the SQLite backend's data: it is removed when the caller lets it go.)
    static func storage(_ backend: ServerBackend) async throws -> (any ServerStorage, DeviceIdentity, TestDatabase, ScratchFolder) {
        let folder = try ScratchFolder()
        let database = try await TestDatabase.make(backend, dataDirectory: folder.path("data"))
        let storage = try await database.openStorage()
        let token = try await storage.createToken(.device, name: "device", scopes: [testScope], expiresAt: nil, now: Self.at(0))
        return (storage, DeviceIdentity(tokenID: token.id, name: "device", scopes: [testScope]), database, folder)
    }

    static func emptyState(_ backend: ServerBackend) async throws -> String {
        let (storage, _, database, folder) = try await storage(backend)
        defer { database.removeLater(closing: [storage]); _ = folder }
        return try await storage.exportState()
    }
}

/// The same rule seen by real stores syncing with `SyncClient` over HTTP.
@Suite("Log compaction, end to end", .serialized)
struct CompactionEndToEndTests {
    @Test("a store behind the horizon bootstraps again, keeps its unpushed note and converges; the compacted log loses no note", arguments: ServerBackend.all)
    func storeBehindTheHorizon(backend: ServerBackend) async throws {
        try await LiveServer.run(backend) { server in
            let (a, b) = (try server.newStore("a"), try server.newStore("b"))
            try await addCustomers(5, to: a)
            let configuration = SyncConfiguration(server: server.url, token: server.token, retry: EndToEndSyncClientTests.quickRetry)
            @Sendable func sync(_ store: CustomerStore) async throws -> FaultyTransport {
                let transport = FaultyTransport(try HTTPSyncTransport(server: server.url)) { _, _ in nil }
                _ = try await SyncClient(store: store, configuration: configuration, transport: transport).sync()
                return transport
            }
            _ = try await sync(a)
            _ = try await sync(b)
            // A year of edits: each customer's preferred name written 4 times, each write synced.
            for round in 1...4 {
                try await a.write { writer in
                    for index in 0..<5 {
                        try writer.set(ProfileField.preferredName, to: "Name \(round)", of: CustomerID(unchecked: String(format: "c-%04d", index)))
                    }
                }
                _ = try await sync(a)
            }
            // b, offline for months, writes a note it has not pushed yet.
            try await b.write { writer in
                _ = try writer.addNote(NewNote(text: "met at the branch, wants a mortgage", author: "a-417", channel: .branch), to: "c-0001")
            }
            let notesBefore = try await server.storage.exportState().components(separatedBy: "\"text\"").count

            let later = Instant(millisecondsSince1970: WallClock.system.now() + 91 * CompactionTests.day)
            let report = try await server.storage.compact(CompactionPolicy(), at: later)
            #expect(report.removedChanges == 15, "3 superseded writes of each of the 5 names")
            #expect(report.removedSubscriptions == 2, "a and b, both behind the horizon")
            #expect(try await server.storage.exportState().components(separatedBy: "\"text\"").count == notesBefore, "no note lost")

            let bSync = try await sync(b)
            #expect(bSync.sent.contains { $0.path == "/v1/bootstrap" }, "b's cursor expired: it bootstrapped again")
            #expect(try await b.read { try $0.outboxCount() } == 0, "its note was pushed")
            let aSync = try await sync(a)
            #expect(aSync.sent.contains { $0.path == "/v1/bootstrap" }, "a's cursor expired too (no later subscription took its id)")
            _ = try await sync(b)
            let (exportA, exportB) = (try await export(a), try await export(b))
            #expect(exportA == exportB)
            #expect(exportA.contains("wants a mortgage"))
            #expect(exportA.contains("Name 4") && !exportA.contains("Name 3"))
        }
    }

    @Test("the server compacts by itself on its schedule", arguments: ServerBackend.all)
    func schedule(backend: ServerBackend) async throws {
        let schedule = CompactionSchedule(interval: .seconds(3600), firstRunAfter: .milliseconds(100))
        try await LiveServer.run(backend, compaction: schedule) { server in
            var horizon: Instant?
            for _ in 0..<100 where horizon == nil {
                try await Task.sleep(for: .milliseconds(100))
                horizon = try await server.storage.statistics().horizon
            }
            let expected = CompactionPolicy().horizon(at: Instant(millisecondsSince1970: WallClock.system.now()))
            let ran = try #require(horizon, "the first run, 100 ms after start, recorded its horizon")
            #expect(abs(ran.millisecondsSince1970 - expected.millisecondsSince1970) < 60_000)
        }
    }

    @Test("oxpecker-server compact runs beside the serving process and says what it removed; refuses a folder without a database and bad durations")
    func command() async throws {
        let server = try await SyncServerProcess.start(.sqlite)
        defer { server.killNow() }
        let ran = try await server.admin(["compact"])
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(ran.stdout.contains("compacted ") && ran.stdout.contains("the log holds"))

        let folder = try ScratchFolder()
        let none = folder.path("no-data")
        for (arguments, status, message) in [
            (["compact", "--data-dir", none], Int32(3), "no server database"),
            (["compact", "--data-dir", none, "--horizon-days", "0"], 64, "--horizon-days must be at least 1"),
            (["compact", "--data-dir", none, "--horizon-days", "30", "--tombstone-retention-days", "7"], 64, "must be at least --horizon-days"),
            (["serve", "--data-dir", none, "--compact-every-hours=-1"], 64, "--compact-every-hours must be 0"),
        ] {
            let result = try await ChildProcess(BuiltProducts.server, arguments, in: folder.url).wait(timeout: .seconds(60))
            #expect(result.status == status, "\(arguments)")
            #expect(result.stderr.contains(message), "\(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: none), "no database is made")
    }
}
