import GRDB
import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

@Suite("Every local write records exactly its changes in the outbox")
struct OutboxTests {
    func changes(_ store: CustomerStore, after number: Int64 = 0) async throws -> [Change] {
        try await store.read { try $0.outbox(after: number) }
    }

    @Test("creating a customer and setting fields: one change each, numbered 1, 2, 3 with growing timestamps")
    func fieldChanges() async throws {
        let folder = try TemporaryFolder()
        let store = try makeStore(in: folder)
        try await store.write { writer in
            try writer.createCustomer("c-1")
            try writer.set(.legalName, to: "Jana Nováková", of: "c-1")
            try writer.set(.stage, to: .prospect, of: "c-1")
        }
        let outbox = try await changes(store)
        #expect(outbox.map(\.number) == [1, 2, 3])
        #expect(outbox.map(\.field) == ["created_at", "legal_name", "stage"])
        #expect(outbox.map(\.kind) == [.register, .guardedRegister, .register])
        #expect(outbox.allSatisfy { $0.replica == store.replica && $0.hlc.replica == store.replica && $0.customer == "c-1" })
        #expect(zip(outbox, outbox.dropFirst()).allSatisfy { $0.hlc < $1.hlc })
        #expect(outbox[1].value == "Jana Nováková")
        #expect(outbox[1].observed.isEmpty, "the first legal name replaces nothing")

        try await store.write { writer in
            try writer.set(.legalName, to: "Jana Svobodová", of: "c-1")
            try writer.set(.stage, to: .prospect, of: "c-1")  // unchanged: no change recorded
            try writer.set(.stage, to: nil, of: "c-1")
        }
        let more = try await changes(store, after: 3)
        #expect(more.map(\.number) == [4, 5])
        #expect(more[0].observed == [outbox[1].hlc], "a guarded register names the value it overwrites")
        #expect(more[1].value == .null, "clearing a field is a change to null")
    }

    @Test("a set that changes nothing records nothing and takes no timestamp; a cleared field can be set again")
    func unchangedSets() async throws {
        let folder = try TemporaryFolder()
        let clock = ManualClock()  // standing still: every stamp of one millisecond counts up by one
        let store = try makeStore(clock: clock, in: folder)
        let recorded = try await store.write { writer in
            try writer.createCustomer("c-1")
            return [
                try writer.set(ProfileField.segment.descriptor, to: .null, of: "c-1"),  // clearing an unset field
                try writer.set(ProfileField.segment.descriptor, to: "family", of: "c-1"),
                try writer.set(ProfileField.segment.descriptor, to: "family", of: "c-1"),  // the same value
                try writer.set(ProfileField.segment.descriptor, to: .null, of: "c-1"),
                try writer.set(ProfileField.segment.descriptor, to: .null, of: "c-1"),  // cleared already
                try writer.set(ProfileField.segment.descriptor, to: "senior", of: "c-1"),
            ]
        }
        #expect(recorded == [false, true, false, true, false, true])
        let outbox = try await changes(store)
        #expect(outbox.map(\.value) == [outbox[0].value, "family", .null, "senior"])
        #expect(outbox.map(\.hlc.counter) == [0, 1, 2, 3], "writes that changed nothing took no timestamp")
        let profile = try await store.read { try $0.profile(of: "c-1") }
        #expect(profile.fields["segment"] == StampedValue(value: "senior", hlc: outbox[3].hlc))
        #expect(try await store.read { try $0.lastTimestamp() } == outbox[3].hlc)
    }

    @Test("set elements: add and remove are changes; the removal names every add it saw; a re-add is a fresh add, a repeated remove records nothing")
    func setChanges() async throws {
        let folder = try TemporaryFolder()
        let store = try makeStore(in: folder)
        try await store.write { writer in
            try writer.createCustomer("c-1")
            #expect(try writer.add("golf", to: .interests, of: "c-1"))
            #expect(try !writer.add("golf", to: .interests, of: "c-1"), "already there")
            #expect(try writer.remove("golf", from: .interests, of: "c-1"))
            #expect(try !writer.remove("golf", from: .interests, of: "c-1"))
        }
        let outbox = try await changes(store, after: 1)
        #expect(outbox.count == 3)
        #expect(outbox[0].value == ["element": "golf", "op": "add"])
        #expect(outbox[1].value == ["element": "golf", "op": "add"])
        #expect(outbox[1].hlc > outbox[0].hlc, "the re-add carries a tag of its own")
        #expect(outbox[2].value == ["element": "golf", "op": "remove"])
        #expect(outbox[2].observed == [outbox[0].hlc, outbox[1].hlc])
        #expect(outbox.allSatisfy { $0.kind == .addWinsSet && $0.field == "interests" })
    }

    @Test("each appended record is one change of its entity, with the record's id")
    func recordChanges() async throws {
        let folder = try TemporaryFolder()
        let store = try makeStore(in: folder)
        let ids = try await store.write { writer in
            try writer.createCustomer("c-1")
            let note = try writer.addNote(NewNote(text: "hello", author: "a-1", channel: .phone), to: "c-1")
            let revision = try writer.reviseNote(note, text: "hello again", author: "a-1")
            try writer.redactNote(note, by: "a-2")
            let consent = try writer.recordConsent(.granted, for: .marketing, source: "app", of: "c-1")
            let withdrawal = try writer.recordConsent(.withdrawn, for: .marketing, source: "app", of: "c-1")
            let life = try writer.recordLifeEvent(NewLifeEvent(type: .newChild, date: try LocalDate(parsing: "2026-03-01"), source: "customer"), of: "c-1")
            let contact = try writer.recordContact(NewContact(channel: .email, purpose: "service", topic: "card", outcome: .shown), of: "c-1")
            return [note, revision, note, consent, withdrawal, life, contact]
        }
        let outbox = try await changes(store, after: 1)
        #expect(outbox.map(\.entity) == [.note, .noteRevision, .noteRedaction, .consent, .consent, .lifeEvent, .contact])
        #expect(outbox.map(\.record) == ids)
        #expect(outbox[3].field == "marketing" && outbox[3].kind == .consent && outbox[3].observed.isEmpty)
        #expect(outbox[4].observed == [outbox[3].hlc], "a new consent decision names the one it replaces")
        #expect(outbox[0].value["text"] == .null && outbox[1].value["text"] == .null, "redaction scrubs unsent texts")
        #expect(outbox[0].value["author"] == "a-1", "but keeps who and when")
    }

    @Test("a failed write leaves neither state nor outbox changed", arguments: [
        "unknown customer", "bad enum", "bad date", "too long", "unknown note",
    ])
    func failedWriteChangesNothing(_ failure: String) async throws {
        let folder = try TemporaryFolder()
        let store = try makeStore(in: folder)
        try await store.write { try $0.createCustomer("c-0") }
        let before = try exportText(store)
        await #expect(throws: StoreError.self) {
            try await store.write { writer in
                try writer.createCustomer("c-1")
                try writer.set(.preferredName, to: "Half", of: "c-1")
                try writer.addNote(NewNote(text: "half written", author: "a", channel: .sms), to: "c-1")
                switch failure {
                case "unknown customer": try writer.set(.advisor, to: "a-1", of: "c-404")
                case "bad enum": try writer.set(FieldCatalog.field(named: "stage"), to: "sleeping", of: "c-1")
                case "bad date": try writer.set(FieldCatalog.field(named: "birth_date"), to: "2026-02-30", of: "c-1")
                case "too long": try writer.set(.preferredName, to: String(repeating: "x", count: 201), of: "c-1")
                default: try writer.reviseNote("no-such-note", text: "x", author: "a")
                }
            }
        }
        #expect(try exportText(store) == before)
        #expect(try await changes(store).count == 1)
        // The numbering goes on without a gap.
        try await store.write { try $0.createCustomer("c-2") }
        #expect(try await changes(store).map(\.number) == [1, 2])
    }

    @Test("a store that cannot grow refuses a write with storageFull and keeps nothing of it")
    func fullStoreRefusesWrite() async throws {
        let folder = try TemporaryFolder()
        let store = try makeStore(in: folder)
        try await store.write { try $0.createCustomer("c-0") }
        let before = try exportText(store)
        // The writer connection may not grow the file: the write path's own statements hit SQLITE_FULL.
        try await store.pool.write { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(pages)")
        }
        await #expect {
            try await store.write { writer in
                for index in 0..<500 {
                    try writer.set(.stageReason, to: String(repeating: "reason \(index) ", count: 100).prefix(2000).description, of: "c-0")
                }
            }
        } throws: { error in
            if case StoreError.storageFull = error { return true }
            return false
        }
        #expect(try exportText(store) == before)
        #expect(try await changes(store).count == 1)
    }

    @Test("writing about an unknown customer says which one")
    func unknownCustomerError() async throws {
        let folder = try TemporaryFolder()
        let store = try makeStore(in: folder)
        await #expect(throws: StoreError.unknownCustomer("c-404")) {
            try await store.write { try $0.set(.advisor, to: "a-1", of: "c-404") }
        }
        await #expect(throws: StoreError.customerExists("c-1")) {
            try await store.write { writer in
                try writer.createCustomer("c-1")
                try writer.createCustomer("c-1")
            }
        }
    }
}

@Suite("Text limits match the wire's")
struct TextLimitTests {
    @Test("lengths count Unicode code points, as the protocol does, so nothing accepted locally is refused by the server")
    func codePoints() async throws {
        let folder = try TemporaryFolder()
        let store = try makeStore(in: folder)
        try await store.write { try $0.createCustomer("c-1") }
        // 10,001 characters, each an "e" with a combining accent: 20,002 code points.
        let text = String(repeating: "e\u{301}", count: 10_001)
        #expect(text.count <= Limits.noteTextCharacters)
        await #expect(throws: StoreError.self) {
            try await store.write { try $0.addNote(NewNote(text: text, author: "a", channel: .branch), to: "c-1") }
        }
        let fits = String(repeating: "e\u{301}", count: 10_000)
        try await store.write { try $0.addNote(NewNote(text: fits, author: "a", channel: .branch), to: "c-1") }
    }
}
