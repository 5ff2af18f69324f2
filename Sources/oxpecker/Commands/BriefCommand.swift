import ArgumentParser
import OxpeckerStore

/// `oxpecker brief ID`: what to know before reaching out to a customer.
struct BriefCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brief",
        abstract: "What to know before any contact: stage, the advisor who knows them, channels, life events and what they mean, follow-ups, complaints, consents.",
        discussion: "Every statement names the records it comes from (field names, note, life event, contact and consent ids).")

    @OptionGroup var location: StoreLocation
    @OptionGroup var rulesOption: RulesOption
    @Option(help: ArgumentHelp("The time to answer for, like 2026-11-24T15:30:00Z (default: now).", valueName: "instant"))
    var at: String?
    @Argument(help: "The customer's id.") var id: String
    @Flag(help: "Print the brief as one canonical JSON object.") var json = false

    func run() throws {
        let customer = try InputParsing.customer(id)
        let rules = try rulesOption.loadRules()
        let time = try RulesOption.time(at)
        let brief = try location.withStore { store in try store.brief(of: customer, at: time, rules: rules) }
        Console.out(json ? brief.json.canonicalText : ContextText.brief(brief))
    }
}
