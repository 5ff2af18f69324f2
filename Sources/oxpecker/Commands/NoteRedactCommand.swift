import ArgumentParser
import OxpeckerStore

/// `oxpecker note redact NOTE_ID --by …`: removes a note's text everywhere, keeping who wrote it and when.
struct NoteRedactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redact",
        abstract: "Remove a note's text (every revision), keeping who wrote it and when.")

    @OptionGroup var location: StoreLocation
    @Argument(help: "The note's id.") var noteID: String
    @Option(help: "Who redacts the note.") var by: String
    @Option(help: "Why.") var reason: String?

    func run() throws {
        let note = try InputParsing.note(noteID)
        let redacted = try location.withStore { store in
            try store.writeNow { writer in try writer.redactNote(note, by: by, reason: reason) }
        }
        Console.out(redacted ? "redacted note \(note)" : "note \(note) was redacted already")
    }
}
