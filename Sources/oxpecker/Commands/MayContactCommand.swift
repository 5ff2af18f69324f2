import ArgumentParser
import OxpeckerStore

/// `oxpecker may-contact ID --channel C --purpose P`: the contact gate, for scripts and people.
struct MayContactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "may-contact",
        abstract: "May this customer be contacted now on this channel for this purpose? Yes or no, with every check's verdict.",
        discussion: """
            Checks do-not-contact, consent for the purpose, quiet hours in the customer's time zone, the \
            contact budget (contacts of every synced device count), a recent dismissal of the same topic, \
            a care period after a life event, a complaint in progress, and the preferred channels. Every \
            check is listed with its verdict, blocking ones first: ✗ it blocks the contact, ✓ it passes, \
            – it does not apply (quiet hours for an urgent purpose, consent for a purpose that needs none). \
            With --json, each reason has "verdict": "blocks", "passes" or "not_applicable".

            Exit status: 0 the contact may be made; \(ExitStatus.mayNotContact.rawValue) it may not; \
            other statuses as for every command (3 unknown customer, 4 invalid input …).
            Example: oxpecker may-contact c-1001 --channel sms --purpose marketing --topic "savings offer"
            """)

    @OptionGroup var location: StoreLocation
    @OptionGroup var rulesOption: RulesOption
    @Option(help: ArgumentHelp("The time to answer for, like 2026-11-24T15:30:00Z (default: now).", valueName: "instant"))
    var at: String?
    @Argument(help: "The customer's id.") var id: String
    @Option(help: ArgumentHelp("How: \(InputParsing.choices(Channel.self)).", valueName: "channel")) var channel: String
    @Option(help: ArgumentHelp("Why: a purpose of the rules, like marketing, advice, service or security.", valueName: "purpose"))
    var purpose: String
    @Option(help: "What about; a recent dismissal of the same topic holds the contact back.") var topic: String?
    @Flag(help: "Print the answer as one canonical JSON object.") var json = false

    func run() throws {
        let customer = try InputParsing.customer(id)
        let channel: Channel = try InputParsing.choice(channel, option: "--channel")
        let rules = try rulesOption.loadRules()
        let time = try RulesOption.time(at)
        let decision = try location.withStore { store in
            try store.mayContact(customer, on: channel, for: purpose, topic: topic, at: time, rules: rules)
        }
        Console.out(json ? decision.json.canonicalText : ContextText.decision(decision))
        if !decision.allowed {
            Console.flush()
            throw ExitCode(ExitStatus.mayNotContact.rawValue)
        }
    }
}
