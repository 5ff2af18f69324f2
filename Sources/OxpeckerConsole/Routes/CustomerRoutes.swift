import HTTPTypes
import Hummingbird
import OxpeckerProtocol
import OxpeckerStore

extension ConsoleRoutes {
    /// `GET /customers/:id`: the customer's page; with `?channel=…&purpose=…[&topic=…]`,
    /// the contact gate's answer for that contact too.
    @Sendable func customerPage(_ request: Request, context: ConsoleRequestContext) async throws -> Response {
        let id: CustomerID
        do { id = try Self.customerID(context) } catch { return try refusal(for: error, title: "No such customer") }
        let query = Self.query(of: request)
        let gate = query.trimmed("channel").map { GateQuery(channel: $0, purpose: query.trimmed("purpose") ?? "", topic: query.trimmed("topic")) }
        return try await renderCustomer(id, context: context, gate: gate) { page in
            page.notice = query["saved"].flatMap(Self.notice)
        }
    }

    /// What the gate form asked.
    struct GateQuery: Sendable {
        let channel: String
        let purpose: String
        let topic: String?
    }

    /// The line shown after a write succeeded, by the code the write's redirect carries.
    static func notice(_ code: String) -> String? {
        switch code {
        case "note": "Note added. It syncs with the next sync."
        case "redacted": "The note's text was removed. The redaction syncs with the next sync."
        case "already-redacted": "That note was redacted already."
        case "edited": "Note edited; the earlier text stays as a revision. It syncs with the next sync."
        case "consent": "Consent decision recorded. It syncs with the next sync."
        case "life-event": "Life event recorded. It syncs with the next sync."
        case "contact": "Contact recorded. It syncs with the next sync."
        case "resolved": "Conflict resolved. The choice syncs with the next sync."
        default: nil
        }
    }

    /// Renders the customer's page with `status`, after `adjust` (a problem message, the form values
    /// to keep); an unknown customer is a 404 page.
    func renderCustomer(
        _ id: CustomerID, context: ConsoleRequestContext, status: HTTPResponse.Status = .ok, gate: GateQuery? = nil,
        _ adjust: (inout CustomerPage) -> Void = { _ in }
    ) async throws -> Response {
        let time = now
        let rules = configuration.rules
        let csrf = context.csrfToken
        let advisor = configuration.advisor
        var page: CustomerPage
        do {
            page = try await store.read { reader in
                try CustomerPage.load(id, from: reader, at: time, rules: rules, csrf: csrf, advisor: advisor)
            }
        } catch {
            return try refusal(for: error, title: "No such customer")
        }
        if let gate {
            page.gateForm.topic = gate.topic ?? ""
            page.gateForm.channels = Option.list(Channel.rawValues, selected: gate.channel)
            page.gateForm.purposes = Option.list(rules.purposes.keys.sorted(), selected: gate.purpose)
            do {
                let channel: Channel = try FormInput.choice(gate.channel, field: "channel")
                let decision = try await store.read { reader in
                    try reader.mayContact(id, on: channel, for: gate.purpose, topic: gate.topic, at: time, rules: rules)
                }
                page.gate = GateView(decision)
            } catch {
                guard let explanation = Self.explanation(of: error) else { throw error }
                page.problem = explanation.message
                return renderer.page("customer", page, status: explanation.status)
            }
        }
        adjust(&page)
        return renderer.page("customer", page, status: status)
    }
}
