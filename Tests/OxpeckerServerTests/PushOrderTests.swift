import Foundation
import HummingbirdTesting
import OxpeckerProtocol
import OxpeckerServer
import Synchronization
import Testing

/// A push is merged as one batch, but judged change by change, in order: each
/// change against its customer's state as the push's earlier changes left it,
/// and against the log as they wrote it. Every answer, the log and the state
/// are those of the same changes pushed one per request.
@Suite("Push judged in order")
struct PushOrderTests {
    @Test("one push: a new customer's scope add, then its created_at and a field: all accepted", arguments: ServerBackend.all)
    func newCustomerInOnePush(backend: ServerBackend) async throws {
        let changes = try [
            fieldChange(1, customer: "c-new", value: "Before its scope"),
            scopeChange(2, customer: "c-new"),
            fieldChange(3, customer: "c-new", field: "created_at", value: "2026-11-24T10:00:00.000Z"),
            fieldChange(4, customer: "c-new", value: "Jana"),
        ]
        let together = try await PushRun.make(backend, changes, oneByOne: false)
        #expect(together.results == ["out_of_scope", "accepted", "accepted", "accepted"])
        #expect(together.acknowledged == 4)
        #expect(together.log.count == 3)
        #expect(try await PushRun.make(backend, changes, oneByOne: true) == together)
    }

    @Test("one push: a field, a move out of the device's scopes, then more: the changes after the move are out_of_scope", arguments: ServerBackend.all)
    func moveOutOfScopeInOnePush(backend: ServerBackend) async throws {
        let added = try scopeChange(1)
        let changes = try [
            added,
            fieldChange(2, value: "Still mine"),
            scopeChange(3, scope: "branch:other"),
            scopeChange(4, op: "remove", observed: [added.hlc]),
            fieldChange(5, value: "Too late"),
            scopeChange(6),  // back into the device's scope: it cannot see the customer any more
        ]
        let together = try await PushRun.make(backend, changes, oneByOne: false)
        #expect(together.results == ["accepted", "accepted", "accepted", "accepted", "out_of_scope", "out_of_scope"])
        #expect(together.log.count == 4)
        #expect(try await PushRun.make(backend, changes, oneByOne: true) == together)
    }

    @Test("one push with a change twice, a different change under its number, a refusal twice, a clock skew twice", arguments: ServerBackend.all)
    func duplicatesInOnePush(backend: ServerBackend) async throws {
        let future = Int64(1_764_000_000_000 + 86_400_000)
        let changes = try [
            scopeChange(1),
            fieldChange(2, value: "Jana"),
            fieldChange(2, value: "Jana"),
            fieldChange(2, value: "Someone else"),
            fieldChange(3, customer: "c-unseen"),
            fieldChange(3, customer: "c-unseen"),
            fieldChange(4, wall: future),
            fieldChange(4, wall: future),
        ]
        let together = try await PushRun.make(backend, changes, oneByOne: false)
        try #require(together.results.count == changes.count, "\(together.results)")
        #expect(Array(together.results.prefix(6)) == ["accepted", "accepted", "duplicate", "replica_conflict", "out_of_scope", "out_of_scope"])
        #expect(together.results[6] == together.results[7] && together.results[6] != "accepted", "judged again, not stored")
        #expect(together.acknowledged == 3)
        #expect(together.log.count == 2)
        #expect(try await PushRun.make(backend, changes, oneByOne: true) == together)
    }

    @Test("one push: a note, its redaction, then a revision of it: the log keeps neither text", arguments: ServerBackend.all)
    func redactionThenTextInOnePush(backend: ServerBackend) async throws {
        let stamp = { (number: Int64) in try HybridTimestamp(wallMillis: 1_764_000_000_000 + number, counter: 0, replica: "r-1") }
        let changes = try [
            scopeChange(1),
            Change(
                replica: "r-1", number: 2, hlc: stamp(2), customer: "c-1", entity: .note, field: nil, record: "n-1", kind: .appendOnlyLog,
                value: ["author": "a-1", "channel": "branch", "at": "2026-11-24T10:00:00.000Z", "text": "Zorvexia, told in confidence"]),
            Change(
                replica: "r-1", number: 3, hlc: stamp(3), customer: "c-1", entity: .noteRedaction, field: nil, record: "n-1",
                kind: .appendOnlyLog, value: ["note": "n-1", "by": "dpo-office", "at": "2026-11-24T11:00:00.000Z"]),
            Change(
                replica: "r-1", number: 4, hlc: stamp(4), customer: "c-1", entity: .noteRevision, field: nil, record: "v-1",
                kind: .appendOnlyLog, value: ["note": "n-1", "author": "a-1", "at": "2026-11-24T12:00:00.000Z", "text": "Zorvexia again"]),
        ]
        let together = try await PushRun.make(backend, changes, oneByOne: false)
        #expect(together.results == ["accepted", "accepted", "accepted", "accepted"])
        #expect(together.log.count == 4)
        #expect(!together.log.contains { $0.contains("Zorvexia") }, "\(together.log)")
        #expect(!together.state.contains("Zorvexia"))
        #expect(try await PushRun.make(backend, changes, oneByOne: true) == together)
    }

    @Test("one push of two customers' interleaved histories: the answers, log and state of one push per change", arguments: ServerBackend.all)
    func interleavedCustomers(backend: ServerBackend) async throws {
        let firstOfA = try scopeChange(1, customer: "c-a")
        let changes = try [
            firstOfA,
            fieldChange(2, customer: "c-b", value: "Not yet"),
            scopeChange(3, customer: "c-b"),
            fieldChange(4, customer: "c-b", value: "Now"),
            fieldChange(5, customer: "c-a", value: "Anna"),
            scopeChange(6, customer: "c-a", op: "remove", observed: [firstOfA.hlc]),
            fieldChange(7, customer: "c-b", field: "created_at", value: "2026-11-24T10:00:00.000Z"),
            fieldChange(8, customer: "c-a", value: "Gone"),
            fieldChange(4, customer: "c-b", value: "Now"),
            scopeChange(9, customer: "c-b", scope: "branch:other"),
            fieldChange(10, customer: "c-b", value: "Both scopes"),
        ]
        let together = try await PushRun.make(backend, changes, oneByOne: false)
        #expect(
            together.results == [
                "accepted", "out_of_scope", "accepted", "accepted", "accepted", "accepted", "accepted", "out_of_scope", "duplicate", "accepted",
                "accepted",
            ])
        #expect(try await PushRun.make(backend, changes, oneByOne: true) == together)
    }
}

/// What a server answered to changes pushed by the test token, and what it kept.
private struct PushRun: Equatable {
    /// Per change, the reason of a refusal, else the outcome.
    var results: [String] = []
    /// The last push's `acknowledged_through`.
    var acknowledged: JSONValue = .null
    /// The log as a device of the test scope and of `branch:other` pulls it from the start.
    var log: [String] = []
    /// The server's state, exported.
    var state = ""

    /// Pushes `changes` to a new server of `backend`: in one request, or one request per change.
    static func make(_ backend: ServerBackend, _ changes: [Change], oneByOne: Bool) async throws -> PushRun {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        let run = Mutex(PushRun())
        let requests = oneByOne ? changes.map { [$0] } : [changes]
        try await server.test { client in
            for request in requests {
                let answer = try await client.post("/v1/push", pushBody(request), token: server.token).json
                let results = (answer["results"]?.arrayValue ?? []).map { ($0["reason"] ?? $0["outcome"])?.stringValue ?? "?" }
                run.withLock {
                    $0.results += results
                    $0.acknowledged = answer["acknowledged_through"] ?? .null
                }
            }
        }
        let reader = DeviceIdentity(tokenID: "reader", name: "reader", scopes: [testScope, "branch:other"])
        let log = try await server.storage.pull(
            after: nil, limit: 1000, for: reader, replica: nil, at: Instant(millisecondsSince1970: 1_764_000_100_000)
        ).changes
        let state = try await server.storage.exportState()
        return run.withLock {
            $0.log = log
            $0.state = state
            return $0
        }
    }
}
