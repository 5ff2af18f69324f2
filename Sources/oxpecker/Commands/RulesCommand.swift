import ArgumentParser
import OxpeckerStore

/// `oxpecker rules`: the context rules in force, as the JSON a rules file overrides.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Print the customer-context rules in force (built-in, overridden by --rules or $OXPECKER_RULES) as JSON.",
        discussion: """
            A rules file is a JSON object with only the rules it changes, like \
            {"dismissal_quiet_days": 60, "life_events": {"renovation": {"care_days": 14}}}. \
            Maps (purposes, life_events, unrecorded_consent) merge entry by entry; null removes an entry.
            """)

    // Every command takes --store; the rules do not read the store.
    @OptionGroup var location: StoreLocation
    @OptionGroup var rules: RulesOption

    func run() throws {
        Console.out(try rules.loadRules().json.canonicalText)
    }
}
