import ArgumentParser

/// `oxpecker note …`: interaction notes, append-only: add, edit (a new revision), redact, list.
struct NoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "note",
        abstract: "Add, edit, redact and list a customer's interaction notes.",
        subcommands: [NoteAddCommand.self, NoteEditCommand.self, NoteRedactCommand.self, NoteListCommand.self])
}
