import ArgumentParser
import OxpeckerStore

/// `oxpecker contact ID --channel C --purpose P --topic T --outcome O`: records a proactive contact.
struct ContactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contact",
        abstract: "Record a proactive contact or nudge and its outcome; prints its id.",
        discussion: "Example: oxpecker contact c-1001 --channel sms --purpose marketing --topic \"savings offer\" --outcome dismissed")

    @OptionGroup var location: StoreLocation
    @Argument(help: "The customer's id.") var id: String
    @Option(help: ArgumentHelp("How: \(InputParsing.choices(Channel.self)).", valueName: "channel")) var channel: String
    @Option(help: "Why, like marketing or service.") var purpose: String
    @Option(help: "What about.") var topic: String
    @Option(help: ArgumentHelp("How it ended: \(InputParsing.choices(ContactOutcome.self)).", valueName: "outcome"))
    var outcome: String
    @Option(help: ArgumentHelp("When, like 2026-11-24T15:30:00Z (default: now).", valueName: "instant")) var at: String?

    func run() throws {
        let customer = try InputParsing.customer(id)
        let contact = NewContact(
            channel: try InputParsing.choice(channel, option: "--channel"), purpose: purpose, topic: topic,
            outcome: try InputParsing.choice(outcome, option: "--outcome"),
            at: try at.map { try InputParsing.instant($0, option: "--at") })
        let contactID = try location.withStore { store in
            try store.writeNow { writer in try writer.recordContact(contact, of: customer) }
        }
        Console.out(contactID.rawValue)
    }
}
