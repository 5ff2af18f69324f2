import ArgumentParser
import Foundation
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore

/// `oxpecker-server audit --customer ID | --device TOKEN`: the append-only audit trail.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the audit trail of a customer or of a device token: who changed what, when (references only, never values).")
    @OptionGroup var data: DataOptions
    @OptionGroup var actor: AuditActor
    @Option(help: "A customer's id.") var customer: String?
    @Option(help: "A device token's id, as `token list` shows it.") var device: String?
    @Option(help: "The most events to show, oldest first.") var limit: Int = 1000
    @Flag(help: "One JSON object per line.") var json = false

    func validate() throws {
        guard (customer == nil) != (device == nil) else { throw ValidationError("give exactly one of --customer and --device") }
        if let customer, CustomerID(rawValue: customer) == nil { throw ValidationError("'\(customer)' is not a customer id") }
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
    }

    func run() async throws {
        let query: AuditQuery = customer.map { .customer(CustomerID(unchecked: $0)) } ?? .device(tokenID: device ?? "")
        for event in try await data.openStorage().readAuditTrail(query, limit: limit, by: actor.by, at: AuditActor.now) {
            if json {
                print(event.json.canonicalText)
            } else {
                let what = [event.customer?.rawValue, event.entity, event.field, event.record, event.token.map { "token \($0)" }, event.detail]
                    .compactMap { $0 }.joined(separator: " ")
                print("\(event.at)  \(event.actor)  \(event.action.rawValue)  \(what)")
            }
        }
    }
}

/// `--by`: who runs an administrator's command, recorded in the audit trail as its actor.
/// Reading the trail, an erasure's status, the tokens or the state is recorded too.
struct AuditActor: ParsableArguments {
    @Option(help: "Who asks, for the audit trail (default: admin).") var by: String = "admin"

    func validate() throws {
        guard !by.isEmpty, by.count <= 200, !by.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ValidationError("--by must be 1 to 200 characters, without control characters")
        }
    }

    /// The time recorded: now.
    static var now: Instant { Instant(millisecondsSince1970: WallClock.system.now()) }
}
