import Foundation
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore
import PostgresNIO
import Synchronization
import Testing

/// Pushes on PostgreSQL run at once (no global lock): what takes turns, and why a
/// puller still never skips a change that commits late (`PostgresServerStorage+Push.swift`).
@Suite("PostgreSQL: concurrent pushes", .serialized)
struct ConcurrentPushTests {
    static let enabled = ServerBackend.postgresURL != nil
    static let now = Instant(millisecondsSince1970: 1_764_000_100_000)
    static let policy = PushPolicy(nowMillis: now.millisecondsSince1970, maximumClockSkewMillis: 300_000)

    /// A fresh database, its storage, and a device token of `testScope`.
    static func storage() async throws -> (any ServerStorage, DeviceIdentity, TestDatabase, ScratchFolder) {
        let folder = try ScratchFolder()
        let database = try await TestDatabase.make(.postgres, dataDirectory: folder.path("data"))
        let storage = try await database.openStorage()
        let token = try await storage.createToken(.device, name: "device", scopes: [testScope], expiresAt: nil, now: now)
        return (storage, DeviceIdentity(tokenID: token.id, name: "device", scopes: [testScope]), database, folder)
    }

    /// c-1 and c-2, in `testScope`, made by store r-1.
    static func createTwoCustomers(_ storage: any ServerStorage, _ device: DeviceIdentity) async throws {
        let created = try await storage.push(
            PushRequest(replica: "r-1", changes: [try scopeChange(1, customer: "c-1"), try scopeChange(2, customer: "c-2")]), from: device,
            policy: policy)
        #expect(created.results.allSatisfy { $0.outcome == .accepted })
    }

    static func pullAll(_ storage: any ServerStorage, _ device: DeviceIdentity, after cursor: SyncCursor?) async throws -> (
        changes: [String], cursor: SyncCursor?
    ) {
        var (changes, cursor) = ([String](), cursor)
        while true {
            let page = try await storage.pull(after: cursor, limit: 100, for: device, replica: "r-reader", at: now)
            changes += page.changes
            cursor = page.nextCursor
            if !page.hasMore { return (changes, cursor) }
        }
    }

    @Test(
        "a change committed above a push still in flight is not served until that push ends: the puller then gets both, none skipped",
        .enabled(if: enabled, ServerBackend.postgresSkipReason))
    func lateCommitBelow() async throws {
        let (storage, device, database, folder) = try await Self.storage()
        defer { database.removeLater(closing: [storage]); _ = folder }
        try await Self.createTwoCustomers(storage, device)
        let start = try await Self.pullAll(storage, device, after: nil)
        #expect(start.changes.count == 2)

        let late = try fieldChange(1, replica: "r-late", customer: "c-1", value: "Late")
        let early = try fieldChange(3, replica: "r-1", customer: "c-2", value: "Early")
        let during = Shared<SyncCursor?>(nil)
        try await database.inTransaction { connection in
            // A push in flight, by hand: its position taken, its change not written yet.
            var position: Int64 = 0
            for try await taken in try await connection.query("SELECT oxp_take_positions(1)", logger: connection.logger).decode(Int64.self) {
                position = taken
            }
            // Another push commits meanwhile, above it.
            let pushed = try await storage.push(PushRequest(replica: "r-1", changes: [early]), from: device, policy: Self.policy)
            #expect(pushed.results.first?.outcome == .accepted)
            // A puller now gets nothing (it waits, briefly, then goes on): its cursor stays below the push in flight.
            let page = try await Self.pullAll(storage, device, after: start.cursor)
            #expect(page.changes.isEmpty, "\(page.changes)")
            during.set(page.cursor)
            // The push in flight writes its change at its position, and commits (at the end of this closure).
            try await connection.query(
                """
                INSERT INTO change_log (position, replica, number, hlc, customer, entity, field, kind, body, superseded, device, received_at)
                VALUES (\(position), 'r-late', 1, \(late.hlc.description), 'c-1', 'profile', 'preferred_name', 'register',
                        \(WireCodec().encodeText(late)), false, \(device.tokenID), \(Self.now.description))
                """, logger: connection.logger)
        }
        let after = try await Self.pullAll(storage, device, after: during.value)
        #expect(after.changes.count == 2, "\(after.changes)")
        #expect(after.changes.first?.contains("Late") == true && after.changes.last?.contains("Early") == true, "\(after.changes)")
    }

    @Test(
        "a push waits only for pushes of the same customer or store: another customer's push commits meanwhile",
        .enabled(if: enabled, ServerBackend.postgresSkipReason))
    func otherCustomersDoNotWait() async throws {
        let (storage, device, database, folder) = try await Self.storage()
        defer { database.removeLater(closing: [storage]); _ = folder }
        try await Self.createTwoCustomers(storage, device)
        let finished = Shared(false)
        let blocked = Shared<Task<PushResponse, any Error>?>(nil)
        try await database.inTransaction { connection in
            // What a push of c-1 in flight holds (PostgresSchema.pushLockSpace).
            try await connection.query("SELECT pg_advisory_xact_lock(\(Int32(0x6F78_706B)), hashtext('c:c-1'))", logger: connection.logger)
            let task = Task {
                defer { finished.set(true) }
                return try await storage.push(
                    PushRequest(replica: "r-1", changes: [try fieldChange(3, customer: "c-1", value: "Waits")]), from: device, policy: Self.policy)
            }
            blocked.set(task)
            let other = try await storage.push(
                PushRequest(replica: "r-2", changes: [try fieldChange(1, replica: "r-2", customer: "c-2", value: "Goes")]), from: device,
                policy: Self.policy)
            #expect(other.results.first?.outcome == .accepted)
            try await Task.sleep(for: .milliseconds(500))
            let done = finished.value
            #expect(!done, "the push of c-1 did not wait for the one in flight")
        }
        let waited = try #require(blocked.value)
        #expect(try await waited.value.results.first?.outcome == .accepted)
    }

    @Test(
        "four stores write one field of one customer at once through two instances: exactly one write stays live, the latest",
        .enabled(if: enabled, ServerBackend.postgresSkipReason))
    func sameCustomerTakesTurns() async throws {
        let (first, device, database, folder) = try await Self.storage()
        let second = try await database.openStorage()
        defer { database.removeLater(closing: [first, second]); _ = folder }
        let created = try await first.push(
            PushRequest(replica: "r-setup", changes: [try scopeChange(1, replica: "r-setup", customer: "c-1")]), from: device, policy: Self.policy)
        #expect(created.results.allSatisfy { $0.outcome == .accepted })
        let stamps = try await withThrowingTaskGroup(of: [HybridTimestamp].self) { group in
            for writer in 0..<4 {
                let storage = writer % 2 == 0 ? first : second
                group.addTask {
                    var random = SplitMix(seed: UInt64(writer) &+ 11)
                    let replica = ReplicaID(unchecked: "r-w\(writer)")
                    var stamps: [HybridTimestamp] = []
                    for number in Int64(1)...25 {
                        let change = try fieldChange(
                            number, replica: replica, customer: "c-1", value: .string("w\(writer)-\(number)"),
                            wall: 1_764_000_000_000 + Int64.random(in: 0...50_000, using: &random))
                        let response = try await storage.push(PushRequest(replica: replica, changes: [change]), from: device, policy: Self.policy)
                        try #require(response.results.first?.outcome == .accepted, "\(response.results)")
                        stamps.append(change.hlc)
                    }
                    return stamps
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let live = try await database.count(
            "SELECT count(*) FROM change_log WHERE customer = 'c-1' AND field = 'preferred_name' AND NOT superseded")
        #expect(live == 1)
        let latest = try #require(stamps.max())
        #expect(
            try await database.count(
                "SELECT count(*) FROM change_log WHERE customer = 'c-1' AND field = 'preferred_name' AND NOT superseded AND hlc = '\(latest)'")
                == 1)
    }

    @Test(
        "two instances compact at once while stores push scope changes and an administrator erases: no deadlock, nothing fails, every live customer stays",
        .enabled(if: enabled, ServerBackend.postgresSkipReason))
    func compactionBesidePushesAndErasures() async throws {
        let (first, device, database, folder) = try await Self.storage()
        let second = try await database.openStorage()
        defer { database.removeLater(closing: [first, second]); _ = folder }
        let customers = (0..<40).map { CustomerID(unchecked: "c-\($0)") }
        let created = try await first.push(
            PushRequest(replica: "r-setup", changes: try customers.enumerated().map { try scopeChange(Int64($0.offset + 1), replica: "r-setup", customer: $0.element) }),
            from: device, policy: Self.policy)
        #expect(created.results.allSatisfy { $0.outcome == .accepted })
        // Long after: every write is behind the horizon, the setup store's subscription-less records too.
        let later = Instant(millisecondsSince1970: Self.now.millisecondsSince1970 + 200 * 86_400_000)
        let policy = PushPolicy(nowMillis: later.millisecondsSince1970, maximumClockSkewMillis: 300_000)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for storage in [first, second] {
                group.addTask {
                    for _ in 0..<5 { _ = try await storage.compact(CompactionPolicy(), at: later) }
                }
            }
            for writer in 0..<2 {
                group.addTask {
                    let storage = writer == 0 ? first : second
                    let replica = ReplicaID(unchecked: "r-\(writer)")
                    for number in Int64(1)...20 {
                        // A second scope on and off (the membership epoch's row), and a field, of customers of its own half.
                        let customer = customers[Int(number % 19) * 2 + writer]
                        let change = number % 2 == 0
                            ? try scopeChange(number, replica: replica, customer: customer, scope: "branch:other", wall: later.millisecondsSince1970 - 1000)
                            : try fieldChange(number, replica: replica, customer: customer, value: .string("v\(number)"), wall: later.millisecondsSince1970 - 1000)
                        let response = try await storage.push(PushRequest(replica: replica, changes: [change]), from: device, policy: policy)
                        try #require(response.results.first?.outcome == .accepted, "\(response.results)")
                    }
                }
            }
            group.addTask {
                for index in [38, 39] { _ = try await first.eraseCustomer(customers[index], by: "admin", at: later) }
            }
            try await group.waitForAll()
        }
        let state = try await second.exportState()
        for customer in customers.prefix(38) { #expect(state.contains("\"\(customer.rawValue)\""), "\(customer) lost") }
        #expect(!state.contains("\"c-38\"") && !state.contains("\"c-39\""))
    }
}
