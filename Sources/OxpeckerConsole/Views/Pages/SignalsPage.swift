import OxpeckerProtocol
import OxpeckerStore

/// The model of the signals page: one entry per signal, the customer's name linked.
struct SignalsPage {
    var title = "Signals"
    var scope: String
    var signals: [Entry]
    var none: Bool

    struct Entry {
        let customer: String
        let name: String
        let customerHref: String
        let kind: String
        let reason: String
        let nextStep: String
        let allowed: Bool
        let gate: String
    }

    static func load(scope: String?, from reader: StoreReader, at time: Instant, rules: ContextRules) throws -> SignalsPage {
        let signals = try reader.signals(in: scope, at: time, rules: rules)
        var names: [CustomerID: String] = [:]
        for signal in signals where names[signal.customer] == nil {
            names[signal.customer] = try reader.profile(of: signal.customer).displayName
        }
        return SignalsPage(
            scope: scope ?? "",
            signals: signals.map { signal in
                let request = signal.contact.request
                return Entry(
                    customer: signal.customer.rawValue, name: names[signal.customer] ?? signal.customer.rawValue,
                    customerHref: Links.customer(signal.customer), kind: DisplayText.words(signal.kind.rawValue), reason: signal.reason,
                    nextStep: signal.nextStep, allowed: signal.contact.allowed,
                    gate: "\(signal.contact.allowed ? "may" : "may not") contact now by \(DisplayText.words(request.channel.rawValue)) for \(request.purpose)")
            },
            none: signals.isEmpty)
    }
}
