import ArgumentParser
import Foundation
import OxpeckerProtocol
import OxpeckerServer

/// `oxpecker-server audit --customer ID | --device TOKEN`: the append-only audit trail.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the audit trail of a customer or of a device token: who changed what, when (references only, never values).")
    @OptionGroup var data: DataOptions
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
        for event in try await data.openStorage().auditTrail(query, limit: limit) {
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
