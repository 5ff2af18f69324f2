import Foundation
import OxpeckerProtocol
import OxpeckerStore

/// The store that figures 2 and 3 read: `count` customers, each with a full context
/// (ten profile fields, three set elements, two notes, a consent, a life event, a
/// contact), written through the store API in large transactions with durability
/// `.normal`. Built once per invocation, in the temporary folder, removed at the end.
struct Fixture {
    let store: CustomerStore
    let path: String
    let customers: [CustomerID]
    let buildSeconds: Double
    let changes: Int64

    /// Whether the fixture was opened from an earlier invocation (`--fixture`) rather than built.
    var reused = false

    /// Opens the fixture kept at `path` by an earlier invocation, if there is one.
    static func reuse(count: Int, path: String) throws -> Fixture? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let store = try CustomerStore.open(at: path, options: StoreOptions(durability: .normal))
        let customers = (0..<count).map(Workload.customerID)
        guard try store.readNow({ try $0.exists(customers[count - 1]) && !$0.exists(Workload.customerID(count)) }) else {
            throw BenchmarkError.check("the fixture at \(path) does not hold exactly \(count) customers")
        }
        let changes = Int64(try store.readNow { try $0.outboxCount() })
        var fixture = Fixture(store: store, path: path, customers: customers, buildSeconds: 0, changes: changes)
        fixture.reused = true
        return fixture
    }

    /// Builds the fixture, encrypted under `key` if there is one.
    static func build(count: Int, directory: String, path: String? = nil, key: StoreKey? = nil, progress: (String) -> Void) throws -> Fixture {
        let path = path ?? directory + (key == nil ? "/fixture.oxpecker" : "/fixture-encrypted.oxpecker")
        let store = try CustomerStore.create(at: path, options: StoreOptions(durability: .normal, key: key))
        let customers = (0..<count).map(Workload.customerID)
        var rng = SeededGenerator(seed: 7)
        var changes: Int64 = 0
        let perTransaction = 1000
        let (_, seconds) = try timed {
            var start = 0
            while start < count {
                let end = min(start + perTransaction, count)
                changes += try store.writeNow { writer in
                    for id in customers[start..<end] { try fill(id, writer: writer, rng: &rng) }
                    return writer.changeCount
                }
                start = end
                if start % 10_000 == 0 { progress("  \(start) customers") }
            }
        }
        return Fixture(store: store, path: path, customers: customers, buildSeconds: seconds, changes: changes)
    }

    private static func fill(_ id: CustomerID, writer: StoreWriter, rng: inout SeededGenerator) throws {
        try writer.createCustomer(id)
        for (field, value) in Workload.fieldChanges(using: &rng) where ["legal_name", "preferred_name", "language", "segment", "advisor", "stage", "income_band", "stage_reason"].contains(field.name) {
            try writer.set(field, to: value, of: id)
        }
        let birth = try LocalDate(year: Int.random(in: 1940...2005, using: &rng), month: Int.random(in: 1...12, using: &rng), day: Int.random(in: 1...28, using: &rng))
        try writer.set(.birthDate, to: birth, of: id)
        try writer.set(.preferredChannels, to: [Channel.email, Channel.phone].shuffled(using: &rng), of: id)
        var interests = Workload.interests.shuffled(using: &rng)
        try writer.add(interests.removeFirst(), to: .interests, of: id)
        try writer.add(interests.removeFirst(), to: .interests, of: id)
        try writer.add("branch:HN0\(Int.random(in: 1...9, using: &rng))", to: .scopes, of: id)
        for _ in 0..<2 {
            try writer.addNote(
                NewNote(
                    text: Workload.noteText(using: &rng), author: Workload.advisors.randomElement(using: &rng)!,
                    channel: [.branch, .phone, .email].randomElement(using: &rng)!,
                    sentiment: Sentiment.allCases.randomElement(using: &rng)!),
                to: id)
        }
        try writer.recordConsent(.granted, for: .marketing, source: "online banking consent form", of: id)
        try writer.recordLifeEvent(
            NewLifeEvent(
                type: LifeEventType.allCases.randomElement(using: &rng)!,
                date: try LocalDate(year: 2025, month: Int.random(in: 1...12, using: &rng), day: Int.random(in: 1...28, using: &rng)),
                source: "advisor conversation", confidence: 80),
            of: id)
        try writer.recordContact(
            NewContact(channel: .email, purpose: "marketing", topic: "mortgage rate offer", outcome: .sent), of: id)
    }
}
