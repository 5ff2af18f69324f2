import OxpeckerProtocol
import OxpeckerStore

/// The customers the console tests read and write: a Vietnamese and a Czech name,
/// notes in both languages, one with markup in it, consents and a life event.
enum TestCustomers {
    static let huong: CustomerID = "c-1001"
    static let jana: CustomerID = "c-1002"
    static let vietnameseNote = "Khách hàng hỏi về khoản vay mua nhà; muốn gặp lại vào tháng sau."
    static let czechNote = "Ptala se na hypotéku pro rodinu, ozve se po Vánocích."
    static let markupNote = "<script>alert('x')</script> & \"quoted\""

    /// Adds both customers to `store`.
    static func add(to store: CustomerStore) async throws {
        try await store.write { writer in
            let stage = try FieldCatalog.field(named: "stage")
            let advisor = try FieldCatalog.field(named: "advisor")
            try writer.createCustomer(huong, in: ["branch:HN01"])
            try writer.set(ProfileField.legalName, to: "Nguyễn Thị Hương", of: huong)
            _ = try writer.set(stage, to: "active", of: huong)
            _ = try writer.set(advisor, to: "a-417", of: huong)
            _ = try writer.addNote(NewNote(text: vietnameseNote, author: "a-417", channel: .branch, sentiment: .positive), to: huong)
            _ = try writer.addNote(NewNote(text: markupNote, author: "a-417", channel: .phone), to: huong)
            _ = try writer.recordConsent(.granted, for: .profiling, source: "branch:HN01", of: huong)
            _ = try writer.recordConsent(.withdrawn, for: .marketing, source: "mobile_app", of: huong)

            try writer.createCustomer(jana, in: ["branch:HN01"])
            try writer.set(ProfileField.legalName, to: "Jana Nováková", of: jana)
            _ = try writer.set(stage, to: "prospect", of: jana)
            // A follow-up long overdue: a signal.
            _ = try writer.addNote(
                NewNote(
                    text: czechNote, author: "a-212", channel: .video, at: try Instant(parsing: "2025-01-02T10:00:00Z"),
                    followUp: try LocalDate(parsing: "2025-01-10")),
                to: jana)
        }
    }
}
