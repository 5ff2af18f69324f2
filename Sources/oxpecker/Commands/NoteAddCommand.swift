import ArgumentParser
import OxpeckerStore

/// `oxpecker note add ID --text … --author … --channel …`: appends a note and prints its id.
struct NoteAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a note to a customer; prints the note's id.",
        discussion: "Example: oxpecker note add c-1001 --text \"Asked about mortgages\" --author a-417 --channel branch")

    @OptionGroup var location: StoreLocation
    @Argument(help: "The customer's id.") var id: String
    @Option(help: "What was said or agreed.") var text: String
    @Option(help: "Who writes the note.") var author: String
    @Option(help: ArgumentHelp("How the conversation happened: \(InputParsing.choices(Channel.self)).", valueName: "channel"))
    var channel: String
    @Option(help: ArgumentHelp("The tone: \(InputParsing.choices(Sentiment.self)).", valueName: "sentiment"))
    var sentiment: String?
    @Option(name: .customLong("follow-up"), help: ArgumentHelp("A date to follow up, YYYY-MM-DD.", valueName: "date"))
    var followUp: String?
    @Option(help: ArgumentHelp("When it happened, like 2026-11-24T15:30:00Z (default: now).", valueName: "instant"))
    var at: String?

    func run() throws {
        let customer = try InputParsing.customer(id)
        let note = NewNote(
            text: text, author: author, channel: try InputParsing.choice(channel, option: "--channel"),
            at: try at.map { try InputParsing.instant($0, option: "--at") },
            sentiment: try sentiment.map { try InputParsing.choice($0, option: "--sentiment") },
            followUp: try followUp.map { try InputParsing.date($0, option: "--follow-up") })
        let noteID = try location.withStore { store in
            try store.writeNow { writer in try writer.addNote(note, to: customer) }
        }
        Console.out(noteID.rawValue)
    }
}
