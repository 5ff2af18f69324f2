import Hummingbird
import OxpeckerProtocol
import OxpeckerStore

extension ConsoleRoutes {
    /// `POST /customers/:id/consents` (purpose, decision = grant | withdraw, source): `oxpecker consent`.
    @Sendable func recordConsent(_ request: Request, context: ConsoleRequestContext) async throws -> Response {
        let form = context.form
        let id: CustomerID
        do { id = try Self.customerID(context) } catch { return try refusal(for: error, title: "No such customer") }
        do {
            let purpose: ConsentPurpose = try FormInput.choice(form["purpose"] ?? "", field: "purpose")
            let status: ConsentStatus
            switch form["decision"] {
            case "grant": status = .granted
            case "withdraw": status = .withdrawn
            default: throw ConsoleInputError("decision: choose grant or withdraw")
            }
            let source = form["source"] ?? ""
            try await store.write { writer in _ = try writer.recordConsent(status, for: purpose, source: source, of: id) }
            return Self.seeOther(Links.customer(id) + "?saved=consent#consents")
        } catch {
            guard let explanation = Self.explanation(of: error) else { throw error }
            return try await renderCustomer(id, context: context, status: explanation.status) { page in
                page.problem = explanation.message
                page.consentForm.source = form["source"] ?? ""
                page.consentForm.grant = form["decision"] != "withdraw"
                page.consentForm.purposes = Option.list(ConsentPurpose.rawValues, selected: form["purpose"])
            }
        }
    }
}
