import Foundation
import GRDB
import HummingbirdTesting
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore
import Testing

/// The server's audit trail: who changed which field of which customer, every
/// erasure and token change; references only; append-only.
@Suite("Audit trail")
struct AuditTests {
    @Test("changes, an erasure and token changes are recorded by customer and by device, with no personal value", arguments: ServerBackend.all)
    func trail(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        let now = Instant(millisecondsSince1970: 1_764_000_000_000)
        let tokens = try await server.storage.tokens()
        let deviceA = try #require(tokens.first?.id)
        let issuedB = try await server.storage.createToken(name: "laptop-b", scopes: ["branch:B"], expiresAt: nil, now: now)
        #expect(try await server.storage.setTokenScopes(id: issuedB.id, scopes: ["branch:B", "branch:C"], at: now))
        #expect(try await server.storage.revokeToken(id: issuedB.id, at: now))
        let note = Change(
            replica: "r-1", number: 3, hlc: try HybridTimestamp(wallMillis: 1_764_000_000_003, counter: 0, replica: "r-1"), customer: "c-1",
            entity: .note, field: nil, record: "n-1", kind: .appendOnlyLog,
            value: ["author": "a-1", "channel": "branch", "at": "2026-11-24T10:00:00.000Z", "text": "Inherits the Quillmoor estate"])
        try await server.test { client in
            let pushed = try await client.post(
                "/v1/push", pushBody([try scopeChange(1), try fieldChange(2, value: "Jana Quillmoor"), note]), token: server.token)
            #expect(pushed.json["results"]?.arrayValue?.map { $0["outcome"] } == ["accepted", "accepted", "accepted"])
        }
        _ = try await server.storage.eraseCustomer("c-1", by: "dpo-office", at: now)

        let customer = try await server.storage.auditTrail(.customer("c-1"), limit: 100)
        #expect(customer.map(\.action) == [.change, .change, .change, .erase])
        #expect(customer.map(\.actor) == [deviceA, deviceA, deviceA, "dpo-office"])
        #expect(customer.map { $0.field ?? "-" } == ["scopes", "preferred_name", "-", "-"])
        #expect(customer[0].detail == "r-1#1 add \(testScope)")
        #expect(customer[2].entity == "note" && customer[2].record == "n-1")
        #expect(customer.map(\.sequence) == customer.map(\.sequence).sorted())

        let deviceTrail = try await server.storage.auditTrail(.device(tokenID: deviceA), limit: 100)
        #expect(deviceTrail.map(\.action) == [.tokenCreate, .change, .change, .change])
        let tokenTrail = try await server.storage.auditTrail(.device(tokenID: issuedB.id), limit: 100)
        #expect(tokenTrail.map(\.action) == [.tokenCreate, .tokenScopes, .tokenRevoke])
        #expect(tokenTrail[1].detail == "scopes branch:B,branch:C")

        let everything = customer + deviceTrail + tokenTrail
        let text = everything.map { [$0.actor, $0.customer?.rawValue, $0.entity, $0.field, $0.record, $0.token, $0.detail].compactMap { $0 }.joined() }
        #expect(!text.contains { $0.contains("Quillmoor") || $0.contains("Jana") }, "references only")
    }

    @Test("the audit trail is append-only: the database refuses to change or delete an event", arguments: ServerBackend.all)
    func appendOnly(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        try await server.test { client in
            _ = try await client.post("/v1/push", pushBody([try scopeChange(1)]), token: server.token)
        }
        let tampering = ["UPDATE audit_event SET actor = 'someone else'", "DELETE FROM audit_event"]
        switch backend {
        case .sqlite:
            try await (server.storage as? SQLiteServerStorage)?.checkpoint()
            let queue = try DatabaseQueue(path: server.folder.appendingPathComponent("server.oxpecker").path)
            for sql in tampering {
                #expect(throws: DatabaseError.self) { try queue.write { try $0.execute(sql: sql) } }
            }
            #expect(try Self.count(in: queue) == 2)
            try queue.close()
        case .postgres:
            try await server.database.execute("SELECT count(*) FROM audit_event")  // reading is allowed: the refusals below are the trigger's
            for sql in tampering + ["TRUNCATE audit_event"] {
                await #expect(throws: (any Error).self) { try await server.database.execute(sql) }
            }
            let tokenID = try #require(try await server.storage.tokens().first?.id)
            let trail = try await server.storage.auditTrail(.device(tokenID: tokenID), limit: 10)
            #expect(trail.map(\.action) == [.tokenCreate, .change] && trail.allSatisfy { $0.actor != "someone else" })
        }
    }

    static func count(in queue: DatabaseQueue) throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_event") ?? 0 }
    }
}
