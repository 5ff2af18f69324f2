import ArgumentParser
import OxpeckerProtocol
import OxpeckerStore

/// `oxpecker customer add ID …`: records a new customer with any of its fields, in one transaction.
struct CustomerAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a customer, with any of its fields and set elements.",
        discussion: """
            Example:
              oxpecker customer add c-1001 --legal-name "Jana Nováková" \\
                --stage prospect --scope branch:HN01 --set language=cs \\
                --set contact_budget=3/month --add interests=sailing
            """)

    @OptionGroup var location: StoreLocation

    @Argument(help: "The new customer's id (1 to 64 of A-Z a-z 0-9 . _ : -).")
    var id: String

    @Option(name: .customLong("legal-name"), help: "Full legal name.")
    var legalName: String?

    @Option(name: .customLong("preferred-name"), help: "The name the customer likes to be called.")
    var preferredName: String?

    @Option(help: ArgumentHelp("Relationship stage: \(InputParsing.choices(Stage.self)).", valueName: "stage"))
    var stage: String?

    @Option(help: "The advisor who knows the customer.")
    var advisor: String?

    @Option(help: "The bank's segment, like high_spender.")
    var segment: String?

    @Option(name: .customLong("scope"), help: ArgumentHelp("A scope the customer belongs to, like branch:HN01 (repeatable).", valueName: "scope"))
    var scopes: [String] = []

    @Option(name: .customLong("set"), help: ArgumentHelp("Any single-valued field (repeatable).", valueName: "field=value"))
    var assignments: [String] = []

    @Option(name: .customLong("add"), help: ArgumentHelp("An element of a set field, like interests=sailing (repeatable).", valueName: "set=element"))
    var additions: [String] = []

    func run() throws {
        let customer = try InputParsing.customer(id)
        var values: [(FieldDescriptor, JSONValue)] = []
        func single(_ name: String, _ input: String) throws {
            let field = try InputParsing.singleField(name)
            values.append((field, try InputParsing.fieldValue(input, of: field)))
        }
        if let legalName { try single("legal_name", legalName) }
        if let preferredName { try single("preferred_name", preferredName) }
        if let stage { try single("stage", stage) }
        if let advisor { try single("advisor", advisor) }
        if let segment { try single("segment", segment) }
        for assignment in assignments {
            let (name, input) = try InputParsing.assignment(assignment, option: "--set")
            guard !values.contains(where: { $0.0.name == name }) else {
                throw InputError.usage("field '\(name)' is given twice")
            }
            try single(name, input)
        }
        var elements: [(FieldDescriptor, String)] = []
        for addition in additions {
            let (name, element) = try InputParsing.assignment(addition, option: "--add")
            elements.append((try InputParsing.setField(name), element))
        }
        let changes = try location.withStore { store in
            try store.writeNow { writer in
                // Scopes first: a sync server accepts a new customer only inside the device's scopes.
                try writer.createCustomer(customer, in: scopes)
                for (field, value) in values { try writer.set(field, to: value, of: customer) }
                for (field, element) in elements { try writer.add(element, toSetNamed: field, of: customer) }
                return writer.changeCount
            }
        }
        Console.out("added customer \(customer) (\(changes) changes)")
    }
}
