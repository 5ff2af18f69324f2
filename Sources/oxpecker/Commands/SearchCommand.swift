import ArgumentParser
import OxpeckerStore

/// `oxpecker search QUERY`: customers whose names or notes match every word.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Find customers by name or note text (every word must match, as a prefix; accents ignored).")

    @OptionGroup var location: StoreLocation
    @Argument(help: "The words to look for.") var query: String
    @Option(help: "At most this many hits.") var limit = 20
    @Flag(help: "One canonical JSON object per hit, one per line.") var json = false

    func run() throws {
        let limit = try InputParsing.limit(limit)
        let hits = try location.withStore { store in try store.readNow { try $0.search(query, limit: limit) } }
        for hit in hits {
            if json {
                Console.out(hit.jsonForm.canonicalText)
            } else {
                let source = hit.note.map { "note \($0)" } ?? "name"
                Console.out("\(hit.customer)  \(source): \(HumanText.short(hit.snippet, 100))")
            }
        }
    }
}
