import ArgumentParser
import OxpeckerStore

/// `oxpecker show ID`: one customer with its whole context.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a customer: profile, stage, contact preferences, consents, life events, recent notes and contacts.")

    @OptionGroup var location: StoreLocation
    @Argument(help: "The customer's id.") var id: String
    @Flag(help: "Print the customer as one canonical JSON object.") var json = false

    func run() throws {
        let customer = try InputParsing.customer(id)
        let profile = try location.withStore { store in try store.readNow { try $0.profile(of: customer) } }
        Console.out(json ? profile.jsonForm.canonicalText : HumanText.profile(profile))
    }
}
