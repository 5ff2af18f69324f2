import ArgumentParser

/// `oxpecker customer …`: creates customers and changes their profile fields and sets.
struct CustomerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "customer",
        abstract: "Add a customer, set its fields, add to and remove from its sets.",
        discussion: "`oxpecker fields` lists every field, its type and what it accepts.",
        subcommands: [CustomerAddCommand.self, CustomerSetCommand.self, CustomerAddToCommand.self, CustomerRemoveFromCommand.self])
}
