import ArgumentParser
import OxpeckerProtocol
import OxpeckerStore

/// `oxpecker outbox`: the changes made on this store that wait to be synced, in order.
struct OutboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Show the changes waiting to be synced, in order.",
        discussion: """
            Page with --after LAST_NUMBER_OF_THE_PREVIOUS_PAGE. --json prints each change in its wire form. \
            --set-aside lists instead the changes the server refused for good (invalid_change, out_of_scope), \
            kept on this store for a person, with the server's reason.
            """)

    @OptionGroup var location: StoreLocation
    @Option(help: ArgumentHelp("Only changes numbered after this one.", valueName: "number")) var after: Int64 = 0
    @Option(help: "At most this many changes.") var limit = 100
    @Flag(help: "One change per line, as canonical JSON.") var json = false
    @Flag(help: "Print only how many changes wait in the outbox.") var count = false
    @Flag(help: "The changes the server refused for good, kept aside for a person, with its reason.") var setAside = false

    func run() throws {
        guard after >= 0 else { throw InputError.invalid("--after: must be 0 or more, not \(after)") }
        let limit = try InputParsing.limit(limit)
        if setAside {
            let kept = try location.withStore { store in try store.readNow { try $0.pushRejections() } }
            if count { return Console.out(String(kept.count)) }
            for rejection in kept.drop(while: { $0.change.number <= after }).prefix(limit) {
                Console.out(json ? try rejection.change.canonicalText() : "\(Self.line(for: rejection.change))\n    refused: \(rejection.reason): \(rejection.message)")
            }
            return
        }
        if count {
            let total = try location.withStore { store in try store.readNow { try $0.outboxCount() } }
            Console.out(String(total))
            return
        }
        let changes = try location.withStore { store in try store.readNow { try $0.outbox(after: after, limit: limit) } }
        for change in changes {
            Console.out(json ? try change.canonicalText() : Self.line(for: change))
        }
    }

    /// `12  2026-11-24 15:30  c-1001  profile stage = "active"`
    static func line(for change: Change) -> String {
        var what = change.entity.rawValue
        if let field = change.field { what += " " + field }
        if let record = change.record { what += " [\(record)]" }
        let value = HumanText.short(change.value.canonicalText, 70)
        let at = HumanText.minute(Instant(millisecondsSince1970: change.hlc.wallMillis))
        return "\(change.number)  \(at)  \(change.customer)  \(what) = \(value)"
    }
}
