import Foundation
import HummingbirdTesting
import OxpeckerProtocol
import OxpeckerServer
import Testing

/// `Protocol/README.md`, "bootstrap_page": which `resume_cursor` is the pull cursor,
/// and how an interrupted bootstrap resumes.
@Suite("Bootstrap cursors")
struct BootstrapResumeTests {
    /// Three customers in the token's scope, one page each at limit 1.
    static func seed(_ client: any TestClientProtocol, _ server: ServerHarness) async throws {
        let changes = try ["c-1", "c-2", "c-3"].enumerated().map { index, id in
            try scopeChange(Int64(index + 1), customer: CustomerID(unchecked: id))
        }
        _ = try await client.post("/v1/push", pushBody(changes), token: server.token)
    }

    static func page(_ client: any TestClientProtocol, _ server: ServerHarness, after page: SyncCursor? = nil) async throws -> BootstrapPage {
        let body = page.map { "{\"limit\":1,\"page\":\"\($0.rawValue)\"}" } ?? "{\"limit\":1}"
        let response = try await client.post("/v1/bootstrap", body, token: server.token)
        #expect(response.status == .ok, "\(response.text)")
        return try WireCodec().decode(BootstrapPage.self, from: response.text)
    }

    /// The page's next_page; fails the test on a last page.
    static func next(_ page: BootstrapPage) throws -> SyncCursor {
        let next: SyncCursor? = page.nextPage
        return try #require(next, "not the last page")
    }

    static func pull(_ client: any TestClientProtocol, _ server: ServerHarness, after cursor: SyncCursor) async throws -> TestResponse {
        try await client.post("/v1/pull", "{\"after\":\"\(cursor.rawValue)\",\"limit\":100}", token: server.token)
    }

    @Test("resume_cursor differs on every page; only the last page's is the pull cursor, an earlier one is cursor_expired", arguments: ServerBackend.all)
    func onlyTheLastResumeCursorPulls(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        try await server.test { client in
            try await Self.seed(client, server)
            let first = try await Self.page(client, server)
            let second = try await Self.page(client, server, after: try Self.next(first))
            let last = try await Self.page(client, server, after: try Self.next(second))
            #expect([first, second, last].map { $0.customers.map(\.customer) } == [["c-1"], ["c-2"], ["c-3"]])
            #expect(last.nextPage == nil)
            #expect(Set([first.resumeCursor, second.resumeCursor, last.resumeCursor]).count == 3, "one resume_cursor per page")

            // The first page's was superseded when the second page was confirmed (by asking for the third).
            let refused = try await Self.pull(client, server, after: first.resumeCursor)
            #expect(refused.status.code == 410)
            #expect(refused.json["code"] == "cursor_expired")
            let pulled = try await Self.pull(client, server, after: last.resumeCursor)
            #expect(pulled.status == .ok)
            let page = try WireCodec().decode(PullResponse.self, from: pulled.text)
            #expect(page.changes.isEmpty && page.purges.isEmpty, "nothing happened since the snapshot: \(pulled.text)")
            // Pulling with the last page's confirmed it: every earlier page's is refused now.
            for earlier in [first.resumeCursor, second.resumeCursor] {
                #expect(try await Self.pull(client, server, after: earlier).json["code"] == "cursor_expired")
            }
        }
    }

    @Test("an interrupted bootstrap resends its next_page and gets the page again; an older next_page is cursor_expired", arguments: ServerBackend.all)
    func interruptedBootstrapResumes(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        try await server.test { client in
            try await Self.seed(client, server)
            let first = try await Self.page(client, server)
            let lost = try await Self.page(client, server, after: try Self.next(first))
            // The answer was lost: the device still has first.nextPage and sends it again.
            let again = try await Self.page(client, server, after: try Self.next(first))
            #expect(again.customers == lost.customers)
            let last = try await Self.page(client, server, after: try Self.next(again))
            #expect(last.customers.map(\.customer) == ["c-3"])
            // The device went back to a page it had already passed: refused, it bootstraps again.
            let stale = try await client.post("/v1/bootstrap", "{\"limit\":1,\"page\":\"\(try Self.next(first).rawValue)\"}", token: server.token)
            #expect(stale.status.code == 410)
            #expect(stale.json["code"] == "cursor_expired")
            #expect(try await Self.pull(client, server, after: last.resumeCursor).status == .ok)
        }
    }

    @Test("a superseded resume_cursor the server still accepts sends the later pages' customers again, whole", arguments: ServerBackend.all)
    func supersededCursorResendsLaterCustomers(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        try await server.test { client in
            try await Self.seed(client, server)
            let first = try await Self.page(client, server)
            let second = try await Self.page(client, server, after: try Self.next(first))
            let last = try await Self.page(client, server, after: try Self.next(second))
            #expect(last.nextPage == nil)
            // Wrong, but not lost: the customer of the last page comes again.
            let response = try await Self.pull(client, server, after: second.resumeCursor)
            #expect(response.status == .ok)
            let page = try WireCodec().decode(PullResponse.self, from: response.text)
            #expect(page.changes.map(\.customer) == ["c-3"])
            #expect(page.hasMore)
        }
    }
}
