import OxpeckerProtocol
import OxpeckerStore
import Testing

@Suite("README")
struct ReadmeExampleTests {
    @Test("the README's library example runs as written")
    func libraryExample() async throws {
        let folder = try TemporaryFolder()
        let store = try CustomerStore.create(at: folder.path("branch.oxpecker"))

        try await store.write { writer in
            try writer.createCustomer("c-1001", in: ["branch:HN01"])   // its scopes: who may see it
            try writer.set(.legalName, to: "Jana Nováková", of: "c-1001")
            try writer.set(.stage, to: .active, of: "c-1001")
            try writer.addNote(NewNote(text: "Renovating; needs liquidity.", author: "a-417", channel: .branch), to: "c-1001")
            try writer.recordConsent(.withdrawn, for: .marketing, source: "branch", of: "c-1001")
        }

        let profile = try await store.read { try $0.profile(of: "c-1001") }
        let hits = try await store.read { try $0.search("novakova") }
        let pending = try await store.read { try $0.outbox(after: 0) }
        #expect(profile.displayName == "Jana Nováková")
        #expect(profile[.stage] == .active)
        #expect(profile.consents.map(\.status) == [.withdrawn])
        #expect(hits.map(\.customer) == ["c-1001"])
        #expect(pending.count == 6)  // created_at, legal name, stage, scope, note, consent
    }
}
