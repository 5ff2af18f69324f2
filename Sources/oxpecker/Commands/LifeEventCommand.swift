import ArgumentParser
import OxpeckerStore

/// `oxpecker life-event ID --type T --date D --source S`: records a life event.
struct LifeEventCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "life-event",
        abstract: "Record a life event of a customer; prints its id.",
        discussion: "Example: oxpecker life-event c-1001 --type home_purchase --date 2026-03-01 --source advisor --confidence 80")

    @OptionGroup var location: StoreLocation
    @Argument(help: "The customer's id.") var id: String
    @Option(help: ArgumentHelp("What happened: \(InputParsing.choices(LifeEventType.self)).", valueName: "type"))
    var type: String
    @Option(help: ArgumentHelp("When, YYYY-MM-DD.", valueName: "date")) var date: String
    @Option(help: "How we know, like customer, advisor or public_record.") var source: String
    @Option(help: "How sure the source is, 0 to 100.") var confidence = 100
    @Option(help: "More about it.") var detail: String?

    func run() throws {
        let customer = try InputParsing.customer(id)
        let event = NewLifeEvent(
            type: try InputParsing.choice(type, option: "--type"), date: try InputParsing.date(date, option: "--date"),
            source: source, confidence: confidence, detail: detail)
        let eventID = try location.withStore { store in
            try store.writeNow { writer in try writer.recordLifeEvent(event, of: customer) }
        }
        Console.out(eventID.rawValue)
    }
}
