import ArgumentParser
import OxpeckerProtocol
import OxpeckerStore

/// `oxpecker customer set ID FIELD VALUE`: sets or clears one single-valued field.
struct CustomerSetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set (or --clear) one field of a customer.",
        discussion: """
            The value is typed as `oxpecker fields` shows, for example:
              oxpecker customer set c-1001 birth_date 1984-05-17
              oxpecker customer set c-1001 preferred_channels email,sms
              oxpecker customer set c-1001 quiet_hours "21:00-08:00 Europe/Prague"
              oxpecker customer set c-1001 contact_budget 3/month
              oxpecker customer set c-1001 segment --clear
            """)

    @OptionGroup var location: StoreLocation

    @Argument(help: "The customer's id.")
    var id: String

    @Argument(help: "The field's name (`oxpecker fields` lists them).")
    var field: String

    @Argument(help: "The new value.")
    var value: String?

    @Flag(help: "Clear the field instead of setting it.")
    var clear = false

    func validate() throws {
        if clear, value != nil { throw ValidationError("give a value or --clear, not both") }
        if !clear, value == nil { throw ValidationError("missing the value (or --clear to clear the field)") }
    }

    func run() throws {
        let customer = try InputParsing.customer(id)
        let descriptor = try InputParsing.singleField(field)
        let newValue: JSONValue = try value.map { try InputParsing.fieldValue($0, of: descriptor) } ?? .null
        let changed = try location.withStore { store in
            try store.writeNow { writer in try writer.set(descriptor, to: newValue, of: customer) }
        }
        let what = clear ? "cleared" : "set"
        Console.out(changed ? "\(what) \(descriptor.name) of \(customer)" : "\(descriptor.name) of \(customer) unchanged")
    }
}
