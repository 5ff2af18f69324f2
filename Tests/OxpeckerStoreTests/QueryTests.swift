import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

@Suite("Lists, search and notes")
struct QueryTests {
    func seeded() async throws -> (TemporaryFolder, CustomerStore) {
        let folder = try TemporaryFolder()
        let clock = ManualClock()
        let store = try makeStore(clock: clock, in: folder)
        let people: [(CustomerID, String, Stage, String, String, [String])] = [
            ("c-1", "Jana Nováková", .active, "a-417", "high_spender", ["branch:HN01"]),
            ("c-2", "Petr Svoboda", .prospect, "a-417", "long_term_potential", ["branch:HN01", "advisor:a-417"]),
            ("c-3", "Eva Dvořáková", .active, "a-9", "high_spender", ["branch:PR02"]),
        ]
        for (id, name, stage, advisor, segment, scopes) in people {
            try await store.write { writer in
                try writer.createCustomer(id)
                try writer.set(.legalName, to: name, of: id)
                try writer.set(.stage, to: stage, of: id)
                try writer.set(.advisor, to: advisor, of: id)
                try writer.set(.segment, to: segment, of: id)
                for scope in scopes { try writer.add(scope, to: .scopes, of: id) }
            }
        }
        for index in 0..<7 {
            clock.advance(60_000)
            try await store.write { try $0.addNote(NewNote(text: "call number \(index) about renovation", author: "a-417", channel: .phone), to: "c-1") }
        }
        return (folder, store)
    }

    @Test("customers filter by scope, stage, advisor and segment, sorted by id, paged")
    func filters() async throws {
        let (_, store) = try await seeded()
        func ids(_ filter: CustomerFilter) async throws -> [CustomerID] {
            try await store.read { try $0.customers(matching: filter) }.map(\.id)
        }
        #expect(try await ids(CustomerFilter()) == ["c-1", "c-2", "c-3"])
        #expect(try await ids(CustomerFilter(scope: "branch:HN01")) == ["c-1", "c-2"])
        #expect(try await ids(CustomerFilter(stage: .active)) == ["c-1", "c-3"])
        #expect(try await ids(CustomerFilter(advisor: "a-417", segment: "high_spender")) == ["c-1"])
        #expect(try await ids(CustomerFilter(scope: "branch:PR02", stage: .prospect)) == [])
        #expect(try await ids(CustomerFilter(after: "c-1", limit: 1)) == ["c-2"])
        try await store.write { try $0.remove("branch:HN01", from: .scopes, of: "c-2") }
        #expect(try await ids(CustomerFilter(scope: "branch:HN01")) == ["c-1"])
    }

    @Test("search finds names without accents and by prefix, and note texts; edits and redactions follow")
    func search() async throws {
        let (_, store) = try await seeded()
        let byName = try await store.read { try $0.search("dvorak") }
        #expect(byName.map(\.customer) == ["c-3"])
        #expect(byName.first?.source == .name)
        let byPrefix = try await store.read { try $0.search("nov") }
        #expect(byPrefix.map(\.customer) == ["c-1"])
        let byNote = try await store.read { try $0.search("renovation", limit: 100) }
        #expect(byNote.count == 7 && byNote.allSatisfy { $0.source == .note && $0.customer == "c-1" })
        #expect(byNote.first?.snippet.contains("[renovation]") == true)

        let note = try #require(byNote.first?.note)
        try await store.write { writer in
            try writer.reviseNote(note, text: "moved to a mortgage question", author: "a-417")
        }
        #expect(try await store.read { try $0.search("renovation", limit: 100) }.count == 6)
        #expect(try await store.read { try $0.search("mortgage") }.map(\.note) == [note])
        try await store.write { try $0.redactNote(note, by: "a-417") }
        #expect(try await store.read { try $0.search("mortgage") }.isEmpty)
        #expect(try await store.read { try $0.search("   ") }.isEmpty, "an empty query finds nothing and is no error")
        #expect(try await store.read { try $0.search("\"unbalanced AND (") }.isEmpty, "FTS syntax in a query is taken as words")

        try await store.write { try $0.set(.legalName, to: "Jana Horáková", of: "c-1") }
        #expect(try await store.read { try $0.search("novakova") }.isEmpty, "a renamed customer is found by the new name only")
        #expect(try await store.read { try $0.search("horakova") }.map(\.customer) == ["c-1"])
    }

    @Test("notes come newest first, a page at a time")
    func notesPaged() async throws {
        let (_, store) = try await seeded()
        let first = try await store.read { try $0.notes(of: "c-1", limit: 3) }
        let second = try await store.read { try $0.notes(of: "c-1", limit: 3, offset: 3) }
        let last = try await store.read { try $0.notes(of: "c-1", limit: 3, offset: 6) }
        #expect((first + second + last).map(\.text) == (0..<7).reversed().map { "call number \($0) about renovation" })
        let oldest = try await store.read { try $0.notes(of: "c-1", newestFirst: false, limit: 1) }
        #expect(oldest.first?.text == "call number 0 about renovation")
        let profile = try await store.read { try $0.profile(of: "c-1") }
        #expect(profile.recentNotes.count == StoreReader.recentNoteCount)
        #expect(profile.noteCount == 7)
    }
}
