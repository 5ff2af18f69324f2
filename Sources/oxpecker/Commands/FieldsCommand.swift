import ArgumentParser
import OxpeckerStore

/// `oxpecker fields`: the field catalog: every profile field, its merge rule, type and meaning.
struct FieldsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fields",
        abstract: "List every profile field: name, merge rule, type, and what it is for.")

    // Accepted like on every command, so scripts can pass it everywhere; the catalog needs no store.
    @OptionGroup var location: StoreLocation
    @Flag(help: "One canonical JSON object per field, one per line.") var json = false
    @Flag(name: .customLong("input"), help: "Also show what each field accepts on the command line.") var showInput = false

    func run() throws {
        for field in FieldCatalog.all {
            if json {
                Console.out(field.jsonForm.canonicalText)
                continue
            }
            let columns = [
                field.name.padding(toLength: 24, withPad: " ", startingAt: 0),
                field.kind.rawValue.padding(toLength: 17, withPad: " ", startingAt: 0),
                field.type.name.padding(toLength: 18, withPad: " ", startingAt: 0),
                field.summary,
            ]
            Console.out(columns.joined(separator: " "))
            if showInput { Console.out(String(repeating: " ", count: 25) + "input: " + field.type.inputHint) }
        }
    }
}
