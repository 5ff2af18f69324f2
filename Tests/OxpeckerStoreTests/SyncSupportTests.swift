import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

@Suite("What the sync client keeps in the store")
struct SyncSupportTests {
    @Test("the checkpoint is saved with the data and survives reopening")
    func checkpoint() async throws {
        let folder = try TemporaryFolder()
        let store = try makeStore(in: folder)
        #expect(try await store.read { try $0.syncCheckpoint() } == SyncCheckpoint())
        let saved = SyncCheckpoint(pullCursor: "log.42", bootstrapPage: nil, bootstrapResumeCursor: "log.40", bootstrapped: true, server: "http://127.0.0.1:8080", lastSyncAt: try Instant(parsing: "2026-11-24T10:00:00.000Z"))
        try await store.write { try $0.saveCheckpoint(saved) }
        try store.close()
        let reopened = try CustomerStore.open(at: folder.path("test.oxpecker"))
        #expect(try await reopened.read { try $0.syncCheckpoint() } == saved)
    }

    @Test("acknowledged changes leave the outbox; refused ones are kept aside with their reason")
    func acknowledgeAndReject() async throws {
        let folder = try TemporaryFolder()
        let store = try makeStore(in: folder)
        try await store.write { writer in
            try writer.createCustomer("c-1")
            try writer.set(.advisor, to: "a-1", of: "c-1")
            try writer.set(.segment, to: "x", of: "c-1")
        }
        try await store.write { writer in
            try writer.acknowledge([1, 3])
            try writer.recordRejection(of: 2, reason: "out_of_scope", message: "c-1 is not in your scopes")
        }
        #expect(try await store.read { try $0.outboxCount() } == 0)
        let rejections = try await store.read { try $0.pushRejections() }
        #expect(rejections.map(\.change.number) == [2])
        #expect(rejections.first?.change.value == "a-1")
        #expect(rejections.first?.reason == "out_of_scope")
    }

    @Test("purging a customer removes its data, search entries and unsent changes, and nothing else")
    func purge() async throws {
        let folder = try TemporaryFolder()
        let store = try makeStore(in: folder)
        try await store.write { writer in
            for id in ["c-1", "c-2"] as [CustomerID] {
                try writer.createCustomer(id)
                try writer.set(.legalName, to: "Jana \(id)", of: id)
                try writer.addNote(NewNote(text: "renovation \(id)", author: "a", channel: .branch), to: id)
                try writer.recordConsent(.granted, for: .marketing, source: "app", of: id)
                try writer.add("golf", to: .interests, of: id)
            }
        }
        let report = try await store.write { try $0.purge("c-1") }
        #expect(report.existed && report.droppedOutboxChanges == 5)  // created_at, legal name, note, consent, interest
        #expect(try await store.read { try $0.customers(matching: CustomerFilter()) }.map(\.id) == ["c-2"])
        #expect(try await store.read { try $0.search("renovation") }.map(\.customer) == ["c-2"])
        #expect(try await store.read { try $0.outbox() }.allSatisfy { $0.customer == "c-2" })
        // The id as a JSON string, its name, its note: a bare "c-1" can occur inside a random replica id.
        let export = try exportText(store)
        #expect(!export.contains("\"c-1\"") && !export.contains("Jana c-1") && !export.contains("renovation c-1"))
        // Out of scope is not erased: the customer may come back.
        try await store.write { try $0.createCustomer("c-1") }
        let again = try await store.write { try $0.purge("c-404") }
        #expect(!again.existed)
    }
}
