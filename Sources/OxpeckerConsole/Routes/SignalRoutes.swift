import Hummingbird
import OxpeckerProtocol
import OxpeckerStore

extension ConsoleRoutes {
    /// `GET /signals[?scope=branch:HN01]`: who needs attention, why, what to do next, and whether the gate allows
    /// reaching out now (`oxpecker signals`).
    @Sendable func signalsPage(_ request: Request, context: ConsoleRequestContext) async throws -> Response {
        let scope = Self.query(of: request).trimmed("scope")
        let time = now
        let rules = configuration.rules
        let page = try await store.read { reader in try SignalsPage.load(scope: scope, from: reader, at: time, rules: rules) }
        return renderer.page("signals", page)
    }
}
