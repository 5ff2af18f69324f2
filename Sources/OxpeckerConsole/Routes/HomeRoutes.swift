import Hummingbird
import OxpeckerStore

extension ConsoleRoutes {
    /// `GET /?q=…`: the store's search (names and note words, accents ignored, prefixes match), or the customer list.
    @Sendable func home(_ request: Request, context: ConsoleRequestContext) async throws -> Response {
        let query = Self.query(of: request)["q"]
        let page = try await store.read { reader in try HomePage.load(query: query, from: reader) }
        return renderer.page("home", page)
    }
}
