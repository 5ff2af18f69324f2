import ArgumentParser
import Foundation
import OxpeckerStore

/// `oxpecker export --json`: the store's whole current state as canonical JSON, streamed.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the whole store's current state as canonical, stably ordered JSON.",
        discussion: """
            Customers sorted by id, records by timestamp, keys sorted, no whitespace: exporting the same \
            state twice gives the same bytes. The outbox and the replica id are not part of the state.
            With --output, the file appears only once complete (written beside it, then renamed).
            """)

    @OptionGroup var location: StoreLocation
    @Flag(help: "Export as JSON (the default and only format).") var json = false
    @Option(help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file")) var output: String?

    func run() throws {
        try location.withStore { store in
            if let output {
                try ExportFile.write(to: output) { sink in try store.readNow { try $0.exportJSON(to: sink) } }
            } else {
                try store.readNow { try $0.exportJSON(to: Console.write) }
                Console.flush()
                if Console.outputFailed { throw OutputError(description: "could not write the export to standard output") }
            }
        }
    }
}
