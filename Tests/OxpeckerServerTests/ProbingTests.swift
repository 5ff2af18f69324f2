import Foundation
import HummingbirdTesting
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore
import Synchronization
import Testing

/// A device must learn nothing of a customer outside its scopes: not whether it
/// exists, not whether it was erased, whatever it pushes or pulls.
@Suite("Probing: a device learns nothing of customers it cannot see")
struct ProbingTests {
    static let now = Instant(millisecondsSince1970: 1_764_000_000_000)

    /// The refusals of a push, each message with its customer's id replaced by `ID`.
    static func refusals(_ response: TestResponse, customers: [CustomerID]) -> [String] {
        (response.json["results"]?.arrayValue ?? []).enumerated().map { index, result in
            let message = result["message"]?.stringValue ?? ""
            let reason = result["reason"]?.stringValue ?? result["outcome"]?.stringValue ?? "?"
            return reason + ": " + message.replacingOccurrences(of: customers[index].rawValue, with: "ID")
        }
    }

    @Test(
        "a push for a customer outside the scopes gets one refusal, word for word, whether it exists elsewhere, never existed, or was erased",
        arguments: ServerBackend.all)
    func pushRefusalsAlike(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        let tokenA = try await server.storage.createToken(name: "laptop-a", scopes: ["branch:A"], expiresAt: nil, now: Self.now).secret
        let tokenB = try await server.storage.createToken(name: "laptop-b", scopes: ["branch:B"], expiresAt: nil, now: Self.now).secret
        try await server.test { client in
            // B's customers: one stays, one is erased. A's own customer, held by A, is erased too.
            var fromB: [Change] = []
            for (index, customer) in ["c-hidden", "c-gone"].enumerated() {
                let number = Int64(index * 2 + 1)
                fromB += [
                    try scopeChange(number, replica: "r-b", customer: CustomerID(rawValue: customer)!, scope: "branch:B"),
                    try fieldChange(number + 1, replica: "r-b", customer: CustomerID(rawValue: customer)!, value: "Secret"),
                ]
            }
            _ = try await client.post("/v1/push", pushBody(fromB, replica: "r-b"), token: tokenB)
            _ = try await client.post(
                "/v1/push", pushBody([try scopeChange(1, replica: "r-a", customer: "c-mine", scope: "branch:A")], replica: "r-a"), token: tokenA)
            #expect(try await client.post("/v1/pull", #"{"limit":100}"#, token: tokenA).status == .ok, "A holds c-mine")
            _ = try await server.storage.eraseCustomer("c-gone", by: "dpo", at: Self.now)
            _ = try await server.storage.eraseCustomer("c-mine", by: "dpo", at: Self.now)
            let logged = try await server.storage.logCount()
            let state = try await server.storage.exportState()

            // A field change, and a creation in A's own scope, of each customer A cannot see.
            let probed: [CustomerID] = ["c-hidden", "c-never", "c-gone"]
            var number: Int64 = 10
            for probe in ["field", "creation"] {
                let changes = try probed.map { customer in
                    number += 1
                    return probe == "field"
                        ? try fieldChange(number, replica: "r-a", customer: customer, value: "Probe")
                        : try scopeChange(number, replica: "r-a", customer: customer, scope: "branch:A")
                }
                var answers = Self.refusals(try await client.post("/v1/push", pushBody(changes, replica: "r-a"), token: tokenA), customers: probed)
                if probe == "creation" {
                    #expect(answers[1] == "accepted: ", "a new id is taken (what stays visible: an id in use is refused)")
                    answers.remove(at: 1)
                }
                #expect(answers.allSatisfy { $0.hasPrefix("out_of_scope: ") }, "\(probe): \(answers)")
                #expect(Set(answers).count == 1, "\(probe): one refusal for every standing: \(answers)")
            }
            #expect(try await server.storage.logCount() == logged + 1, "nothing stored but the new customer")
            #expect(try await server.storage.exportState() != state)

            // customer_erased only to a token that wrote or held the erased customer; B never saw c-mine.
            let heldByA = try await client.post("/v1/push", pushBody([try fieldChange(20, replica: "r-a", customer: "c-mine")], replica: "r-a"), token: tokenA)
            #expect(heldByA.json["results"]?.arrayValue?.first?["reason"] == "customer_erased")
            let neverHeld = try await client.post(
                "/v1/push", pushBody([try fieldChange(20, replica: "r-b", customer: "c-mine"), try fieldChange(21, replica: "r-b", customer: "c-nothing")], replica: "r-b"),
                token: tokenB)
            let bAnswers = Self.refusals(neverHeld, customers: ["c-mine", "c-nothing"])
            #expect(bAnswers[0].hasPrefix("out_of_scope: ") && bAnswers[0] == bAnswers[1], "\(bAnswers)")
        }
    }
}


/// Cursors and page tokens are sealed for the token they were handed to.
@Suite("Probing: cursors only the server makes, for one token")
struct SealedCursorTests {
    static let now = Instant(millisecondsSince1970: 1_764_000_000_000)

    /// A cursor's text without its seal (the part after the last dot).
    static func unsealed(_ cursor: String) -> String {
        String(cursor[..<(cursor.lastIndex(of: ".") ?? cursor.endIndex)])
    }

    @Test(
        "a made-up or edited cursor, another token's, or one without a seal is refused alike, whatever customer it names; the real one works",
        arguments: ServerBackend.all)
    func forgedCursors(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        let tokenA = try await server.storage.createToken(name: "laptop-a", scopes: ["branch:A"], expiresAt: nil, now: Self.now).secret
        let tokenB = try await server.storage.createToken(name: "laptop-b", scopes: ["branch:B"], expiresAt: nil, now: Self.now).secret
        try await server.test { client in
            let fromB = try ["c-hidden", "c-gone"].enumerated().flatMap { index, customer in
                try [
                    scopeChange(Int64(index * 2 + 1), replica: "r-b", customer: CustomerID(rawValue: customer)!, scope: "branch:B"),
                    fieldChange(Int64(index * 2 + 2), replica: "r-b", customer: CustomerID(rawValue: customer)!, value: "Secret"),
                ]
            }
            _ = try await client.post("/v1/push", pushBody(fromB, replica: "r-b"), token: tokenB)
            _ = try await client.post(
                "/v1/push", pushBody([try scopeChange(1, replica: "r-a", customer: "c-a", scope: "branch:A")], replica: "r-a"), token: tokenA)
            _ = try await server.storage.eraseCustomer("c-gone", by: "dpo", at: Self.now)
            let pageA = try WireCodec().decode(PullResponse.self, from: try await client.post("/v1/pull", #"{"limit":100}"#, token: tokenA).text)
            let pageB = try WireCodec().decode(PullResponse.self, from: try await client.post("/v1/pull", #"{"limit":100}"#, token: tokenB).text)
            let cursor = pageA.nextCursor.rawValue
            let plain = Self.unsealed(cursor)
            let seal = String(cursor.suffix(from: cursor.index(after: cursor.lastIndex(of: ".")!)))
            #expect(plain.hasPrefix("log.") && seal.count == 22)

            // The "entering customer" form names a customer being sent: with it, a forged cursor
            // would ask about customers A never saw (erased or not, existing or not).
            var forged = [plain, plain + ".AAAAAAAAAAAAAAAAAAAAAA", pageB.nextCursor.rawValue, Self.unsealed(pageB.nextCursor.rawValue) + "." + seal]
            for customer in ["c-gone", "c-hidden", "c-never"] {
                forged += [plain + ".0.\(customer)", plain + ".0.\(customer)." + seal]
            }
            var answers: Set<String> = []
            for text in forged {
                let refused = try await client.post("/v1/pull", #"{"after":"\#(text)","limit":100}"#, token: tokenA)
                #expect(refused.status.code == 410 && refused.json["code"] == "cursor_expired", "\(text): \(refused.text)")
                #expect(!refused.text.contains("c-gone") && !refused.text.contains("c-hidden"))
                answers.insert("\(refused.status.code) \(refused.json["message"]?.stringValue ?? "")")
            }
            #expect(answers.count == 1, "one answer for every forged cursor: \(answers)")

            let real = try await client.post("/v1/pull", #"{"after":"\#(cursor)","limit":100}"#, token: tokenA)
            #expect(real.status == .ok && real.json["purges"] == [])
        }
    }

    @Test("a bootstrap page token works only for its token and unedited; cursors stay valid after a restart", arguments: ServerBackend.all)
    func sealedPages(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        let tokenB = try await server.storage.createToken(name: "laptop-b", scopes: [testScope], expiresAt: nil, now: Self.now).secret
        let saved = Mutex("")
        try await server.test { client in
            _ = try await client.post(
                "/v1/push", pushBody([try scopeChange(1), try scopeChange(2, customer: "c-2"), try scopeChange(3, customer: "c-3")]), token: server.token)
            let first = try WireCodec().decode(BootstrapPage.self, from: try await client.post("/v1/bootstrap", #"{"limit":1}"#, token: server.token).text)
            saved.withLock { $0 = first.nextPage?.rawValue ?? "" }
        }
        let next = saved.withLock { $0 }
        #expect(!next.isEmpty)
        // Another application on the same storage (a restart), and a second storage on the same files: the same key.
        let reopened = try await server.database.openStorage(clock: server.configuration.clock)
        #expect(try await reopened.cursorKey() == (try await server.storage.cursorKey()))
        if let postgres = reopened as? PostgresServerStorage { await postgres.shutdown() }
        try await server.test { client in
            let other = try await client.post("/v1/bootstrap", #"{"limit":1,"page":"\#(next)"}"#, token: tokenB)
            #expect(other.json["code"] == "cursor_expired")
            let edited = Self.unsealed(next).replacingOccurrences(of: "c-1", with: "c-0") + String(next.suffix(23))
            #expect(try await client.post("/v1/bootstrap", #"{"limit":1,"page":"\#(edited)"}"#, token: server.token).json["code"] == "cursor_expired")
            let second = try await client.post("/v1/bootstrap", #"{"limit":1,"page":"\#(next)"}"#, token: server.token)
            #expect(second.status == .ok && second.json["customers"]?.arrayValue?.first?["customer"] == "c-2")
            let resume = try #require(second.json["resume_cursor"]?.stringValue)
            #expect(try await client.post("/v1/pull", #"{"after":"\#(resume)","limit":10}"#, token: server.token).status == .ok)
        }
    }
}
