import ArgumentParser
import OxpeckerStore

/// `oxpecker note edit NOTE_ID --text … --author …`: gives a note a new text, keeping the earlier ones as revisions.
struct NoteEditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit",
        abstract: "Give a note a new text (the earlier texts stay as revisions); prints the revision's id.")

    @OptionGroup var location: StoreLocation
    @Argument(help: "The note's id, as `oxpecker note add` printed it.") var noteID: String
    @Option(help: "The new text.") var text: String
    @Option(help: "Who edits the note.") var author: String

    func run() throws {
        let note = try InputParsing.note(noteID)
        let revision = try location.withStore { store in
            try store.writeNow { writer in try writer.reviseNote(note, text: text, author: author) }
        }
        Console.out(revision.rawValue)
    }
}
