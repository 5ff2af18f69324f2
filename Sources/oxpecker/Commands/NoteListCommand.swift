import ArgumentParser
import OxpeckerStore

/// `oxpecker note list ID`: a customer's notes, newest first, a page at a time.
struct NoteListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List a customer's notes, newest first, a page at a time.")

    @OptionGroup var location: StoreLocation
    @Argument(help: "The customer's id.") var id: String
    @Flag(name: .customLong("oldest-first"), help: "Oldest notes first.") var oldestFirst = false
    @Option(help: "Notes per page.") var limit = 20
    @Option(help: "The page, from 1.") var page = 1
    @Flag(help: "One canonical JSON object per note, one per line.") var json = false

    func run() throws {
        let customer = try InputParsing.customer(id)
        let limit = try InputParsing.limit(limit)
        let page = try InputParsing.limit(page, option: "--page")
        let (offset, overflow) = (page - 1).multipliedReportingOverflow(by: limit)
        guard !overflow else { throw InputError.invalid("--page: \(page) is too large") }
        let notes = try location.withStore { store in
            try store.readNow { reader in
                guard try reader.exists(customer) else { throw StoreError.unknownCustomer(customer) }
                return try reader.notes(of: customer, newestFirst: !oldestFirst, limit: limit, offset: offset)
            }
        }
        for note in notes {
            Console.out(json ? note.jsonForm.canonicalText : HumanText.note(note))
        }
    }
}
