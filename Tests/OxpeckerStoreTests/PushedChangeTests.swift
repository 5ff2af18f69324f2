import GRDB
import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

@Suite("Changes the server acknowledged, kept to be pushed again after a restore")
struct PushedChangeTests {
    @Test("acknowledged changes are kept as pushed and go back to the outbox under their own numbers, in order")
    func requeue() async throws {
        let folder = try TemporaryFolder()
        let store = try makeStore(in: folder)
        try await store.write { writer in
            try writer.createCustomer("c-1")
            try writer.set(.advisor, to: "a-1", of: "c-1")
            try writer.set(.segment, to: "x", of: "c-1")
        }
        let sent = try await store.read { try $0.outbox() }
        try await store.write { writer in
            try writer.acknowledge([1, 2])
            try writer.discardFromOutbox([3])  // e.g. a change of an erased customer: not kept
        }
        #expect(try await store.read { try $0.outboxCount() } == 0)
        #expect(try await store.read { try $0.pushedChangeCount() } == 2)
        try await store.write { try $0.set(.advisor, to: "a-2", of: "c-1") }
        let requeued = try await store.write { try $0.requeuePushedChanges() }
        #expect(requeued == 2)
        #expect(try await store.read { try $0.pushedChangeCount() } == 0)
        let outbox = try await store.read { try $0.outbox() }
        #expect(outbox.map(\.number) == [1, 2, 4])
        #expect(Array(outbox.prefix(2)) == Array(sent.prefix(2)))
    }

    @Test("pushed changes are kept for the store's retention from their acknowledgement, then dropped")
    func retention() async throws {
        let folder = try TemporaryFolder()
        let clock = ManualClock()
        let day: Int64 = 24 * 3600 * 1000
        let store = try CustomerStore.create(
            at: folder.path("test.oxpecker"), options: StoreOptions(clock: clock.wallClock, pushedChangeRetention: .seconds(7 * 24 * 3600)))
        try await store.write { try $0.createCustomer("c-1") }  // 1
        clock.advance(30 * day)  // made long ago, acknowledged now: kept from now
        try await store.write { try $0.set(.advisor, to: "a-1", of: "c-1") }  // 2
        try await store.write { try $0.acknowledge([1]) }
        clock.advance(6 * day)
        try await store.write { try $0.acknowledge([2]) }
        #expect(try await store.read { try $0.pushedChangeCount() } == 2)
        clock.advance(1 * day + 1)
        try await store.write { try $0.set(.segment, to: "x", of: "c-1") }  // 3
        try await store.write { try $0.acknowledge([3]) }  // 1 is now 7 days and 1 ms old
        #expect(try await store.read { try $0.pushedChangeCount() } == 2)
        let requeued = try await store.write { try $0.requeuePushedChanges() }
        #expect(requeued == 2)
        #expect(try await store.read { try $0.outbox().map(\.number) } == [2, 3])
    }

    @Test("a rejection is kept aside, not as pushed")
    func rejectionNotKept() async throws {
        let folder = try TemporaryFolder()
        let store = try makeStore(in: folder)
        try await store.write { try $0.createCustomer("c-1") }
        try await store.write { try $0.recordRejection(of: 1, reason: "out_of_scope", message: "no") }
        #expect(try await store.read { try $0.pushedChangeCount() } == 0)
        #expect(try await store.read { try $0.pushRejections().count } == 1)
    }

    @Test("a purge removes the customer's pushed changes; a redaction removes the note's text from them")
    func purgeAndRedaction() async throws {
        let folder = try TemporaryFolder()
        let store = try makeStore(in: folder)
        let note = try await store.write { writer in
            try writer.createCustomer("c-1")
            try writer.createCustomer("c-2")
            return try writer.addNote(NewNote(text: "a secret the customer regrets", author: "a-1", channel: .branch), to: "c-1")
        }
        let numbers = try await store.read { try $0.outbox().map(\.number) }
        try await store.write { try $0.acknowledge(numbers) }
        try await store.write { _ = try $0.redactNote(note, by: "dpo") }
        let kept = try store.readNow { reader in
            try String.fetchAll(reader.db, sql: "SELECT value FROM pushed_change WHERE entity = 'note'")
        }
        #expect(kept.count == 1)
        #expect(!kept.joined().contains("secret"))
        try await store.write { try $0.purge("c-2") }
        let customers = try store.readNow { reader in try String.fetchAll(reader.db, sql: "SELECT DISTINCT customer_id FROM pushed_change") }
        #expect(customers == ["c-1"])
    }
}
