import ArgumentParser
import OxpeckerStore

/// `oxpecker signals [--scope S]`: customers worth a person's attention, and why.
struct SignalsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signals",
        abstract: "Customers going quiet, recurring pain, life events with no follow-up, overdue follow-ups, broken advisor continuity.",
        discussion: """
            Each signal has a reason, a suggested next step and the contact gate's answer for reaching out. \
            Signals from profiling (going quiet, recurring pain) appear only where profiling consent allows.
            """)

    @OptionGroup var location: StoreLocation
    @OptionGroup var rulesOption: RulesOption
    @Option(help: ArgumentHelp("The time to answer for, like 2026-11-24T15:30:00Z (default: now).", valueName: "instant"))
    var at: String?
    @Option(help: "Only customers in this scope, like branch:HN01.") var scope: String?
    @Option(help: ArgumentHelp("Only this customer.", valueName: "id")) var customer: String?
    @Flag(help: "One canonical JSON object per signal, one per line.") var json = false

    func run() throws {
        guard scope == nil || customer == nil else { throw InputError.usage("--scope and --customer do not go together") }
        let customer = try customer.map(InputParsing.customer)
        let rules = try rulesOption.loadRules()
        let time = try RulesOption.time(at)
        let signals = try location.withStore { store in
            try store.readNow { reader in
                if let customer { return try reader.signals(of: customer, at: time, rules: rules) }
                return try reader.signals(in: scope, at: time, rules: rules)
            }
        }
        for signal in signals {
            Console.out(json ? signal.json.canonicalText : ContextText.signal(signal))
        }
    }
}
