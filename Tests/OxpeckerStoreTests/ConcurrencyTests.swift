import OxpeckerProtocol
import Testing

@testable import OxpeckerStore

@Suite("Concurrent readers and a writer")
struct ConcurrencyTests {
    static let fieldsPerCustomer = 6

    @Test("many tasks read while a writer writes: no error, and no read ever sees half a transaction")
    func noTornReads() async throws {
        let folder = try TemporaryFolder()
        let store = try CustomerStore.create(at: folder.path("c.oxpecker"), options: StoreOptions(durability: .normal))
        let customers = 200
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for index in 0..<customers {
                    let id = try CustomerID(validating: "c-\(index)")
                    try await store.write { writer in
                        try writer.createCustomer(id)
                        for field in ["preferred_name", "advisor", "segment", "stage_reason", "lifestyle"] {
                            try writer.set(FieldCatalog.field(named: field), to: .string("\(field) \(index)"), of: id)
                        }
                        try writer.addNote(NewNote(text: "note \(index)", author: "a-1", channel: .branch), to: id)
                    }
                }
            }
            for reader in 0..<8 {
                group.addTask {
                    var generator = SeededGenerator(seed: UInt64(reader))
                    for _ in 0..<300 {
                        let dice = Int.random(in: 0..<1_000_000, using: &generator)
                        try await store.read { reader in
                            // One snapshot: the outbox and the state must tell the same story.
                            let listed = try reader.customers(matching: CustomerFilter(limit: 10_000))
                            let outboxCount = try reader.outboxCount()
                            #expect(outboxCount == listed.count * (Self.fieldsPerCustomer + 1))
                            guard !listed.isEmpty else { return }
                            let pick = listed[dice % listed.count]
                            let profile = try reader.profile(of: pick.id)
                            #expect(profile.fields.count == Self.fieldsPerCustomer)
                            #expect(profile.noteCount == 1)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let count = try await store.read { try $0.customers(matching: CustomerFilter(limit: 10_000)).count }
        #expect(count == customers)
    }
}
