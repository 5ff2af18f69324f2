import ArgumentParser
import OxpeckerStore

/// `oxpecker list`: customers matching filters, sorted by id, a page at a time.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List customers, sorted by id; filters combine.",
        discussion: "Page with --after LAST_ID_OF_THE_PREVIOUS_PAGE.")

    @OptionGroup var location: StoreLocation
    @Option(help: "Only customers in this scope, like branch:HN01.") var scope: String?
    @Option(help: ArgumentHelp("Only customers at this stage: \(InputParsing.choices(Stage.self)).", valueName: "stage"))
    var stage: String?
    @Option(help: "Only customers of this advisor.") var advisor: String?
    @Option(help: "Only customers in this segment.") var segment: String?
    @Option(help: ArgumentHelp("Only customers whose id sorts after this one.", valueName: "id")) var after: String?
    @Option(help: "At most this many customers.") var limit = 100
    @Flag(help: "One canonical JSON object per customer, one per line.") var json = false

    func run() throws {
        let filter = CustomerFilter(
            scope: scope, stage: try stage.map { try InputParsing.choice($0, option: "--stage") }, advisor: advisor,
            segment: segment, after: try after.map(InputParsing.customer), limit: try InputParsing.limit(limit))
        let customers = try location.withStore { store in try store.readNow { try $0.customers(matching: filter) } }
        for customer in customers {
            if json {
                Console.out(customer.jsonForm.canonicalText)
            } else {
                let name = customer.preferredName ?? customer.legalName ?? "—"
                let details = [customer.stage, customer.advisor.map { "advisor \($0)" }, customer.segment].compactMap { $0 }
                Console.out(([customer.id.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0), name] + details).joined(separator: "  "))
            }
        }
    }
}
