import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

@Suite("Typed profile fields")
struct TypedAPITests {
    @Test("typed fields round-trip through the store")
    func typedRoundTrip() async throws {
        let folder = try TemporaryFolder()
        let store = try makeStore(in: folder)
        let id: CustomerID = "c-1001"
        try await store.write { writer in
            try writer.createCustomer(id)
            try writer.set(.preferredName, to: "Jana", of: id)
            try writer.set(.stage, to: .active, of: id)
            try writer.set(.quietHours, to: QuietHours(start: LocalTime(parsing: "21:00"), end: LocalTime(parsing: "08:00"), timeZone: "Europe/Prague"), of: id)
            try writer.add("sailing", to: .interests, of: id)
        }
        let profile = try await store.read { try $0.profile(of: id) }
        #expect(profile[.preferredName] == "Jana")
        #expect(profile[.stage] == .active)
        #expect(profile[.quietHours]?.timeZone == "Europe/Prague")
        #expect(profile.elements(of: .interests) == ["sailing"])
    }
}
