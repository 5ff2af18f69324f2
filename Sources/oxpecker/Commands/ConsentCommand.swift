import ArgumentParser
import OxpeckerStore

/// `oxpecker consent ID --purpose P (--grant|--withdraw) --source S`: records a consent decision.
struct ConsentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consent",
        abstract: "Record that a customer grants or withdraws a consent.",
        discussion: "Example: oxpecker consent c-1001 --purpose marketing --grant --source mobile_app")

    /// The decision, given as exactly one of `--grant` or `--withdraw`.
    enum Decision: String, EnumerableFlag {
        case grant, withdraw

        static func help(for value: Decision) -> ArgumentHelp? {
            value == .grant ? "The customer grants the consent." : "The customer withdraws the consent."
        }
    }

    @OptionGroup var location: StoreLocation
    @Argument(help: "The customer's id.") var id: String
    @Option(help: ArgumentHelp("What the consent is for: \(InputParsing.choices(ConsentPurpose.self)).", valueName: "purpose"))
    var purpose: String
    @Flag var decision: Decision
    @Option(help: "Where the decision was made, like mobile_app or branch:HN01.") var source: String
    @Option(help: ArgumentHelp("When it was made, like 2026-11-24T15:30:00Z (default: now).", valueName: "instant"))
    var at: String?

    func run() throws {
        let customer = try InputParsing.customer(id)
        let purpose: ConsentPurpose = try InputParsing.choice(purpose, option: "--purpose")
        let at = try at.map { try InputParsing.instant($0, option: "--at") }
        let status: ConsentStatus = decision == .grant ? .granted : .withdrawn
        try location.withStore { store in
            try store.writeNow { writer in
                _ = try writer.recordConsent(status, for: purpose, source: source, at: at, of: customer)
            }
        }
        Console.out("\(purpose.rawValue) \(status.rawValue) for \(customer)")
    }
}
