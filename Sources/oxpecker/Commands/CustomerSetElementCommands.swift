import ArgumentParser
import OxpeckerStore

/// `oxpecker customer add-to ID SET ELEMENT…`: adds elements to a set field, in one transaction.
struct CustomerAddToCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-to",
        abstract: "Add elements to a set field (interests, tags, scopes).",
        discussion: "Example: oxpecker customer add-to c-1001 interests sailing chess")

    @OptionGroup var location: StoreLocation
    @Argument(help: "The customer's id.") var id: String
    @Argument(help: "The set field: interests, tags or scopes.") var set: String
    @Argument(help: "The elements to add.") var elements: [String]

    func validate() throws {
        if elements.isEmpty { throw ValidationError("give at least one element") }
    }

    func run() throws {
        try SetElementEdit(location: location, id: id, set: set, elements: elements, adding: true).run()
    }
}

/// `oxpecker customer remove-from ID SET ELEMENT…`: removes elements from a set field, in one transaction.
struct CustomerRemoveFromCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove-from",
        abstract: "Remove elements from a set field (interests, tags, scopes).",
        discussion: "Example: oxpecker customer remove-from c-1001 interests chess")

    @OptionGroup var location: StoreLocation
    @Argument(help: "The customer's id.") var id: String
    @Argument(help: "The set field: interests, tags or scopes.") var set: String
    @Argument(help: "The elements to remove.") var elements: [String]

    func validate() throws {
        if elements.isEmpty { throw ValidationError("give at least one element") }
    }

    func run() throws {
        try SetElementEdit(location: location, id: id, set: set, elements: elements, adding: false).run()
    }
}

/// What `add-to` and `remove-from` share.
private struct SetElementEdit {
    let location: StoreLocation
    let id: String
    let set: String
    let elements: [String]
    let adding: Bool

    func run() throws {
        let customer = try InputParsing.customer(id)
        let field = try InputParsing.setField(set)
        for element in elements { try field.type.validate(.string(element), field: field.name) }
        let changed = try location.withStore { store in
            try store.writeNow { writer in
                try elements.filter { element in
                    adding
                        ? try writer.add(element, toSetNamed: field, of: customer)
                        : try writer.remove(element, fromSetNamed: field, of: customer)
                }
            }
        }
        let verb = adding ? "added to" : "removed from"
        let unchanged = elements.filter { !changed.contains($0) }
        if !changed.isEmpty { Console.out("\(verb) \(field.name) of \(customer): \(changed.joined(separator: ", "))") }
        if !unchanged.isEmpty {
            // A present element is added again (it then wins over a removal made elsewhere meanwhile).
            Console.out("\(adding ? "confirmed (already in)" : "not in") \(field.name) of \(customer): \(unchanged.joined(separator: ", "))")
        }
    }
}
