import Hummingbird
import OxpeckerProtocol
import OxpeckerStore

extension ConsoleRoutes {
    /// `POST /customers/:id/life-events` (type, date, source, confidence, detail): `oxpecker life-event`.
    @Sendable func recordLifeEvent(_ request: Request, context: ConsoleRequestContext) async throws -> Response {
        let form = context.form
        let id: CustomerID
        do { id = try Self.customerID(context) } catch { return try refusal(for: error, title: "No such customer") }
        do {
            let event = NewLifeEvent(
                type: try FormInput.choice(form["type"] ?? "", field: "type"), date: try FormInput.date(form, "date"),
                source: form["source"] ?? "", confidence: try FormInput.integer(form, "confidence", default: 100),
                detail: form.trimmed("detail"))
            try await store.write { writer in try writer.recordLifeEvent(event, of: id) }
            return Self.seeOther(Links.customer(id) + "?saved=life-event#life-events")
        } catch {
            guard let explanation = Self.explanation(of: error) else { throw error }
            return try await renderCustomer(id, context: context, status: explanation.status) { page in
                page.problem = explanation.message
                page.lifeEventForm.types = Option.list(LifeEventType.rawValues, selected: form["type"])
                page.lifeEventForm.date = form["date"] ?? ""
                page.lifeEventForm.source = form["source"] ?? ""
                page.lifeEventForm.confidence = form["confidence"] ?? ""
                page.lifeEventForm.detail = form["detail"] ?? ""
            }
        }
    }

    /// `POST /customers/:id/contacts` (channel, purpose, topic, outcome): `oxpecker contact`.
    @Sendable func recordContact(_ request: Request, context: ConsoleRequestContext) async throws -> Response {
        let form = context.form
        let id: CustomerID
        do { id = try Self.customerID(context) } catch { return try refusal(for: error, title: "No such customer") }
        do {
            let contact = NewContact(
                channel: try FormInput.choice(form["channel"] ?? "", field: "channel"), purpose: form["purpose"] ?? "",
                topic: form["topic"] ?? "", outcome: try FormInput.choice(form["outcome"] ?? "", field: "outcome"))
            try await store.write { writer in try writer.recordContact(contact, of: id) }
            return Self.seeOther(Links.customer(id) + "?saved=contact#contacts")
        } catch {
            guard let explanation = Self.explanation(of: error) else { throw error }
            return try await renderCustomer(id, context: context, status: explanation.status) { page in
                page.problem = explanation.message
                page.contactForm.channels = Option.list(Channel.rawValues, selected: form["channel"])
                page.contactForm.outcomes = Option.list(ContactOutcome.rawValues, selected: form["outcome"])
                page.contactForm.purpose = form["purpose"] ?? ""
                page.contactForm.topic = form["topic"] ?? ""
            }
        }
    }
}
