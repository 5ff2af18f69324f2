import Hummingbird
import OxpeckerProtocol
import OxpeckerStore

extension ConsoleRoutes {
    /// `GET /conflicts`: every guarded field with concurrent values, side by side (`oxpecker conflicts`).
    @Sendable func conflictsPage(_ request: Request, context: ConsoleRequestContext) async throws -> Response {
        let query = Self.query(of: request)
        let csrf = context.csrfToken
        var page = try await store.read { reader in try ConflictsPage.load(from: reader, csrf: csrf) }
        page.notice = query["saved"] == "resolved" ? Self.notice("resolved") : nil
        return renderer.page("conflicts", page)
    }

    /// `POST /customers/:id/conflicts/:field` (value = a candidate's JSON, or typed = another value):
    /// sets the field, which resolves the conflict (`oxpecker customer set`).
    @Sendable func resolveConflict(_ request: Request, context: ConsoleRequestContext) async throws -> Response {
        let form = context.form
        let csrf = context.csrfToken
        do {
            let id = try Self.customerID(context)
            let field = try FormInput.singleField(context.parameters.get("field") ?? "")
            let value: JSONValue
            if let typed = form.trimmed("typed") {
                value = try field.type.parse(input: typed, field: field.name)
            } else {
                value = try JSONValue(parsing: FormInput.required(form, "value"))
            }
            // The choice is checked against the conflict as it is now (a sync may have changed it since the page was shown).
            let current = try await store.read { reader in try reader.conflicts(of: id).first { $0.field == field.name } }
            guard let current else {
                throw ConsoleInputError("\(field.name) of \(id) has no conflict any more: look again")
            }
            if form.trimmed("typed") == nil, !current.candidates.contains(where: { $0.value == value }) {
                throw ConsoleInputError("\(field.name) of \(id): that value is no longer one of the concurrent values: look again")
            }
            try await store.write { writer in _ = try writer.set(field, to: value, of: id) }
            return Self.seeOther("/conflicts?saved=resolved")
        } catch {
            guard let explanation = Self.explanation(of: error) else { throw error }
            var page = try await store.read { reader in try ConflictsPage.load(from: reader, csrf: csrf) }
            page.problem = explanation.message
            return renderer.page("conflicts", page, status: explanation.status)
        }
    }
}
