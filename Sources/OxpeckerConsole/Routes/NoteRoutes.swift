import Hummingbird
import OxpeckerProtocol
import OxpeckerStore

extension ConsoleRoutes {
    /// How many of a customer's notes are looked through to find the one to redact.
    static let noteLookupLimit = 1_000_000

    /// `POST /customers/:id/notes` (text, author, channel, sentiment, follow_up): `oxpecker note add`.
    @Sendable func addNote(_ request: Request, context: ConsoleRequestContext) async throws -> Response {
        let form = context.form
        let id: CustomerID
        do { id = try Self.customerID(context) } catch { return try refusal(for: error, title: "No such customer") }
        do {
            let note = NewNote(
                text: (form["text"] ?? "").replacingOccurrences(of: "\r\n", with: "\n"), author: form["author"] ?? "",
                channel: try FormInput.choice(form["channel"] ?? "", field: "channel"),
                sentiment: try FormInput.optionalChoice(form, "sentiment"), followUp: try FormInput.optionalDate(form, "follow_up"))
            try await store.write { writer in try writer.addNote(note, to: id) }
            return Self.seeOther(Links.customer(id) + "?saved=note#notes")
        } catch {
            guard let explanation = Self.explanation(of: error) else { throw error }
            return try await renderCustomer(id, context: context, status: explanation.status) { page in
                page.problem = explanation.message
                page.noteForm.text = form["text"] ?? ""
                page.noteForm.author = form["author"] ?? ""
                page.noteForm.followUp = form["follow_up"] ?? ""
                page.noteForm.channels = Option.list(Channel.rawValues, selected: form["channel"])
                page.noteForm.sentiments = Option.list(Sentiment.rawValues, selected: form["sentiment"], blank: "not said")
            }
        }
    }

    /// `POST /customers/:id/notes/:note/edit` (text, author): `oxpecker note edit`; the earlier text stays as a revision.
    @Sendable func editNote(_ request: Request, context: ConsoleRequestContext) async throws -> Response {
        let form = context.form
        return try await noteForm(context) { id, noteID in
            let text = (form["text"] ?? "").replacingOccurrences(of: "\r\n", with: "\n")
            let author = form["author"] ?? ""
            try await store.write { writer in try writer.reviseNote(noteID, text: text, author: author) }
            return Self.seeOther(Links.customer(id) + "?saved=edited#note-\(noteID.rawValue)")
        }
    }

    /// A form about one note of a customer (`/customers/:id/notes/:note/…`): a page that
    /// names no such note is refused; the note must be the customer's; an error of
    /// `perform` is shown on the customer's page as the CLI says it, and nothing is written.
    private func noteForm(
        _ context: ConsoleRequestContext, _ perform: (CustomerID, RecordID) async throws -> Response
    ) async throws -> Response {
        let id: CustomerID
        let noteID: RecordID
        do {
            id = try Self.customerID(context)
            noteID = try FormInput.note(context.parameters.get("note") ?? "")
        } catch {
            return try refusal(for: error, title: "No such note")
        }
        do {
            try await requireNote(noteID, of: id)
            return try await perform(id, noteID)
        } catch {
            guard let explanation = Self.explanation(of: error) else { throw error }
            return try await renderCustomer(id, context: context, status: explanation.status) { page in
                page.problem = explanation.message
            }
        }
    }

    /// Throws unless `note` is a note of `customer`: the page's address names both (notes never change customer).
    func requireNote(_ note: RecordID, of customer: CustomerID) async throws {
        let owned = try await store.read { reader -> Bool? in
            try reader.exists(customer) ? try reader.notes(of: customer, limit: Self.noteLookupLimit).contains { $0.id == note } : nil
        }
        guard let owned else { throw StoreError.unknownCustomer(customer) }
        guard owned else { throw StoreError.unknownNote(note) }
    }

    /// `POST /customers/:id/notes/:note/redact` (by, reason): `oxpecker note redact`.
    @Sendable func redactNote(_ request: Request, context: ConsoleRequestContext) async throws -> Response {
        let form = context.form
        return try await noteForm(context) { id, noteID in
            let by = form["by"] ?? ""
            let reason = form.trimmed("reason")
            let redacted = try await store.write { writer in try writer.redactNote(noteID, by: by, reason: reason) }
            return Self.seeOther(Links.customer(id) + (redacted ? "?saved=redacted" : "?saved=already-redacted") + "#note-\(noteID.rawValue)")
        }
    }
}
