import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore
import Testing

@Suite("Sync server API")
struct ServerAPITests {
    @Test("health answers without a token")
    func health() async throws {
        let server = try await ServerHarness.make()
        defer { server.remove() }
        try await server.test { client in
            let response = try await client.execute(uri: "/health", method: .get)
            #expect(response.status == .ok)
            #expect(response.json["status"] == "ok")
        }
    }

    @Test("the same push twice changes nothing the second time", arguments: ServerBackend.all)
    func idempotentPush(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        let body = pushBody([try scopeChange(1), try fieldChange(2), try fieldChange(3, field: "advisor", value: "a-417")])
        try await server.test { client in
            let first = try await client.post("/v1/push", body, token: server.token)
            #expect(first.status == .ok)
            #expect(first.json["results"]?.arrayValue?.map { $0["outcome"] } == ["accepted", "accepted", "accepted"])
            let state = try await server.storage.exportState()
            let second = try await client.post("/v1/push", body, token: server.token)
            #expect(second.json["results"]?.arrayValue?.map { $0["outcome"] } == ["duplicate", "duplicate", "duplicate"])
            #expect(second.json["acknowledged_through"] == 3)
            #expect(try await server.storage.logCount() == 3)
            #expect(try await server.storage.exportState() == state)
        }
    }

    @Test("a change stamped hours ahead is refused with clock_skew; one from behind is accepted", arguments: ServerBackend.all)
    func clockSkew(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        let ahead = try fieldChange(2, wall: 1_764_000_000_000 + 3 * 3_600_000)
        let behind = try fieldChange(3, field: "advisor", value: "a-1", wall: 1_764_000_000_000 - 5 * 3_600_000)
        try await server.test { client in
            let response = try await client.post("/v1/push", pushBody([try scopeChange(1), ahead, behind]), token: server.token)
            let results = response.json["results"]?.arrayValue ?? []
            #expect(results.map { $0["outcome"] } == ["accepted", "rejected", "accepted"])
            #expect(results[1]["reason"] == "clock_skew")
            #expect(response.json["acknowledged_through"] == 1, "a refused-for-now change is not acknowledged")
            #expect(try await server.storage.logCount() == 2)
        }
    }

    @Test("a clock_skew refusal is not remembered: the same number, restamped, is accepted and then acknowledged", arguments: ServerBackend.all)
    func clockSkewIsNotFinal(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        let ahead = try fieldChange(2, wall: 1_764_000_000_000 + 3 * 3_600_000)
        let again = try fieldChange(3, field: "stage", value: "active", wall: 1_764_000_000_000 + 3 * 3_600_000)
        try await server.test { client in
            let first = try await client.post("/v1/push", pushBody([try scopeChange(1), ahead, again]), token: server.token)
            #expect(first.json["results"]?.arrayValue?.map { $0["reason"] ?? .null } == [.null, "clock_skew", "clock_skew"])
            #expect(first.json["acknowledged_through"] == 1)
            // The same changes, ahead still: refused again by the rule, not answered from a stored refusal.
            let retried = try await client.post("/v1/push", pushBody([ahead]), token: server.token)
            #expect(retried.json["results"]?.arrayValue?.first?["reason"] == "clock_skew")
            // Restamped (the device's clock fixed): new bodies under the same numbers, taken.
            let restamped = try await client.post(
                "/v1/push", pushBody([try fieldChange(2, wall: 1_764_000_000_000), try fieldChange(3, field: "stage", value: "active", wall: 1_764_000_000_000)]),
                token: server.token)
            #expect(restamped.json["results"]?.arrayValue?.map { $0["outcome"] } == ["accepted", "accepted"])
            #expect(restamped.json["acknowledged_through"] == 3)
            #expect(try await server.storage.logCount() == 3)
        }
    }

    @Test("the handshake announces the server's time and its clock-skew allowance", arguments: ServerBackend.all)
    func helloAnnouncesClockSkew(backend: ServerBackend) async throws {
        let made = try await ServerHarness.make(backend)
        defer { made.remove() }
        var configuration = made.configuration
        configuration.maximumClockSkewMillis = 42_000
        let server = ServerHarness(
            folder: made.folder, database: made.database, storage: made.storage, configuration: configuration, token: made.token)
        try await server.test { client in
            let hello = try await client.post(
                "/v1/hello", WireCodec().encodeText(HelloRequest(protocolVersion: 2, replica: "r-1", client: "test")), token: server.token,
                version: "2")
            #expect(hello.status == .ok)
            #expect(hello.json["max_clock_skew_ms"] == 42_000)
            #expect(hello.json["server_time"] == "2025-11-24T16:00:00.000Z")
            #expect(hello.json["protocol_version"] == 2 && hello.headers[HTTPField.Name("Oxpecker-Protocol")!] == "2")
            // A client of version 1 gets the version 1 answer: no allowance (it would refuse the member), its version echoed.
            let older = try await client.post(
                "/v1/hello", WireCodec().encodeText(HelloRequest(protocolVersion: 1, replica: "r-1", client: "test")), token: server.token,
                version: "1")
            #expect(older.status == .ok)
            #expect(older.json["protocol_version"] == 1 && older.json["max_clock_skew_ms"] == nil)
            #expect(older.headers[HTTPField.Name("Oxpecker-Protocol")!] == "1")
            let decoded = try WireCodec().decode(HelloResponse.self, from: older.text)
            #expect(decoded.maximumClockSkewMillis == nil)
        }
    }

    @Test("a change that breaks the data model is refused for good, and only that one", arguments: ServerBackend.all)
    func invalidChange(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        let bad = try fieldChange(2, field: "stage", value: "sleeping")
        let unknown = try fieldChange(3, field: "shoe_size", value: "44")
        let good = try fieldChange(4)
        try await server.test { client in
            let response = try await client.post("/v1/push", pushBody([try scopeChange(1), bad, unknown, good]), token: server.token)
            let results = response.json["results"]?.arrayValue ?? []
            #expect(results.map { $0["reason"] ?? .null } == [.null, "invalid_change", "invalid_change", .null])
            #expect(response.json["acknowledged_through"] == 4)
            #expect(try await server.storage.logCount() == 2)
        }
    }

    @Test("bad requests get the documented error and change nothing", arguments: [
        ("malformed JSON", "/v1/push", "{\"replica\": ", "token", "1", 400, "malformed_json"),
        ("wrong type", "/v1/pull", "{\"limit\": \"ten\"}", "token", "1", 400, "wrong_type"),
        ("fraction", "/v1/pull", "{\"limit\": 1.5}", "token", "1", 400, "fractional_number"),
        ("unknown member", "/v1/pull", "{\"limit\": 5, \"hack\": true}", "token", "1", 400, "unknown_field"),
        ("no token", "/v1/push", "{}", "none", "1", 401, "unauthorized"),
        ("bad token", "/v1/push", "{}", "bad", "1", 401, "unauthorized"),
        ("no version", "/v1/pull", "{\"limit\": 5}", "token", "none", 426, "upgrade_required"),
        ("newer version", "/v1/pull", "{\"limit\": 5}", "token", "9", 400, "version_unsupported"),
        ("version not an integer", "/v1/pull", "{\"limit\": 5}", "token", "one", 426, "upgrade_required"),
        ("version with a fraction", "/v1/pull", "{\"limit\": 5}", "token", "1.0", 426, "upgrade_required"),
        ("two versions in one header", "/v1/pull", "{\"limit\": 5}", "token", "1, 1", 426, "upgrade_required"),
        ("hello body newer than its header", "/v1/hello", #"{"client":"t","protocol_version":4,"replica":"r-1"}"#, "token", "3", 400, "version_unsupported"),
        ("hello header newer than its body", "/v1/hello", #"{"client":"t","protocol_version":3,"replica":"r-1"}"#, "token", "4", 400, "version_unsupported"),
        ("hello body version 0", "/v1/hello", #"{"client":"t","protocol_version":0,"replica":"r-1"}"#, "token", "1", 400, "invalid_value"),
        ("unknown cursor", "/v1/pull", "{\"after\": \"zzz\", \"limit\": 5}", "token", "1", 410, "cursor_expired"),
        ("unknown page", "/v1/bootstrap", "{\"page\": \"zzz\", \"limit\": 5}", "token", "1", 410, "cursor_expired"),
        ("no endpoint", "/v1/nothing", "{}", "token", "1", 404, "not_found"),
    ] as [(String, String, String, String, String, Int, String)])
    func badRequests(_ name: String, _ path: String, _ body: String, _ token: String, _ version: String, _ status: Int, _ code: String) async throws {
        let server = try await ServerHarness.make()
        defer { server.remove() }
        try await server.test { client in
            let tokenValue: String? = token == "none" ? nil : token == "bad" ? "oxp_not-a-token" : server.token
            let response = try await client.post(path, body, token: tokenValue, version: version == "none" ? nil : version)
            #expect(response.status.code == status, "\(name)")
            #expect(response.json["code"] == .string(code), "\(name): \(response.text)")
            #expect(response.json["request_id"]?.stringValue?.hasPrefix("req-") == true)
            #expect(response.headers[HTTPField.Name("Oxpecker-Request-Id")!] == response.json["request_id"]?.stringValue)
            #expect(try await server.storage.logCount() == 0)
        }
    }

    @Test("a method an endpoint does not serve is not_found, in an envelope, never a 500", arguments: [
        ("GET", "/v1/push"), ("PUT", "/v1/pull"), ("DELETE", "/v1/hello"), ("GET", "/v1/bootstrap"),
        ("GET", "/v1/admin/customers/c-1/erase"), ("POST", "/v1/admin/tokens"), ("POST", "/health"),
    ])
    func wrongMethod(_ method: String, _ path: String) async throws {
        let server = try await ServerHarness.make()
        defer { server.remove() }
        try await server.test { client in
            var headers = HTTPFields()
            headers[HTTPField.Name("Oxpecker-Protocol")!] = "1"
            headers[.authorization] = "Bearer \(server.token)"
            let response = try await client.execute(uri: path, method: HTTPRequest.Method(method)!, headers: headers)
            #expect(response.status.code == 404, "\(method) \(path): \(response.text)")
            #expect(response.json["code"] == "not_found")
            #expect(response.json["message"]?.stringValue?.contains("\(method) \(path)") == true, "\(response.text)")
            #expect(response.headers[HTTPField.Name("Oxpecker-Request-Id")!] == response.json["request_id"]?.stringValue)
        }
    }

    @Test("a pushed scope that is not kind:name is invalid_change, and bootstrap pages stay valid", arguments: ServerBackend.all)
    func malformedScope(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        try await server.test { client in
            let bad = ["branch HN01", "HN01", "Branch:HN01", "branch:", "branch:HN01 "]
            let changes = try [try scopeChange(1)] + bad.enumerated().map { index, scope in try scopeChange(Int64(index + 2), scope: scope) }
            let response = try await client.post("/v1/push", pushBody(changes), token: server.token)
            #expect(response.status == .ok)
            let reasons = response.json["results"]?.arrayValue?.map { $0["reason"] ?? .null }
            #expect(reasons == [.null] + bad.map { _ in "invalid_change" }, "\(response.text)")
            #expect(try await server.storage.logCount() == 1)
            let page = try await client.post("/v1/bootstrap", #"{"limit":10}"#, token: server.token)
            let decoded = try WireCodec().decode(BootstrapPage.self, from: page.text)
            #expect(decoded.customers.map(\.scopes) == [[testScope]])
        }
    }

    @Test("an oversized body is refused with body_too_large, and too many changes with too_many_changes")
    func oversized() async throws {
        var limits = WireLimits.standard
        limits.maximumBodyBytes = 2000
        limits.maximumChangesPerPush = 3
        let server = try await ServerHarness.make(limits: limits)
        defer { server.remove() }
        try await server.test { client in
            let big = try await client.post("/v1/push", String(repeating: " ", count: 5000) + "{}", token: server.token)
            #expect(big.status.code == 413)
            #expect(big.json["code"] == "body_too_large")
            let many = try await client.post("/v1/push", pushBody(try (1...4).map { try fieldChange($0) }), token: server.token)
            #expect(many.json["code"] == "too_many_changes")
            #expect(try await server.storage.logCount() == 0)
        }
    }

    @Test("pull pages through the log in order with cursors, and bootstrap holds only what still matters", arguments: ServerBackend.all)
    func pullAndBootstrap(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        // c-1, c-2 and c-3 in scope, 25 writes of one field for c-1, then one field for c-2 and c-3.
        var changes = [try scopeChange(1), try scopeChange(2, customer: "c-2"), try scopeChange(3, customer: "c-3")]
        changes += try (4...28).map { try fieldChange($0, value: .string("name \($0)")) }
        changes.append(try fieldChange(29, customer: "c-2"))
        changes.append(try fieldChange(30, customer: "c-3"))
        let log = changes
        try await server.test { client in
            _ = try await client.post("/v1/push", pushBody(log), token: server.token)
            var cursor: String?
            var seen: [Int64] = []
            var pages = 0
            while true {
                let body = cursor.map { "{\"after\":\"\($0)\",\"limit\":10}" } ?? "{\"limit\":10}"
                let page = try await client.post("/v1/pull", body, token: server.token)
                let decoded = try WireCodec().decode(PullResponse.self, from: page.text)
                seen += decoded.changes.map(\.number)
                pages += 1
                cursor = decoded.nextCursor.rawValue
                if !decoded.hasMore { break }
            }
            #expect(seen == Array(1...30))
            #expect(pages == 3)

            let first = try WireCodec().decode(BootstrapPage.self, from: try await client.post("/v1/bootstrap", "{\"limit\":2}", token: server.token).text)
            #expect(first.customers.map(\.customer) == ["c-1", "c-2"])
            #expect(first.customers[0].changes.map(\.number) == [1, 28], "older writes of the register are left out")
            let next = try #require(first.nextPage)
            let second = try WireCodec().decode(
                BootstrapPage.self, from: try await client.post("/v1/bootstrap", "{\"limit\":2,\"page\":\"\(next.rawValue)\"}", token: server.token).text)
            #expect(second.customers.map(\.customer) == ["c-3"])
            #expect(second.nextPage == nil)
            #expect(second.resumeCursor.rawValue.hasPrefix("log."))
        }
    }

    @Test("a revoked token is refused from the next request on", arguments: ServerBackend.all)
    func revoked(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        try await server.test { client in
            #expect(try await client.post("/v1/pull", "{\"limit\":1}", token: server.token).status == .ok)
            let id = try #require(try await server.storage.tokens().first?.id)
            #expect(try await server.storage.revokeToken(id: id, at: Instant(millisecondsSince1970: 1_764_000_000_000)))
            let refused = try await client.post("/v1/pull", "{\"limit\":1}", token: server.token)
            #expect(refused.status == .unauthorized)
        }
    }

    @Test("concurrent pushers and a puller: the puller sees every accepted change exactly once, in order", arguments: ServerBackend.all)
    func noSkippedChanges(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        let pushers = 4, batches = 10, perBatch = 25
        try await server.test { client in
            // The customers first, in scope; the puller starts after them.
            for pusher in 0..<pushers {
                let replica = ReplicaID(unchecked: "r-\(pusher)")
                let scopes = try (0..<7).map { try scopeChange(Int64($0 + 1), replica: replica, customer: CustomerID(unchecked: "c-\(pusher)-\($0)")) }
                _ = try await client.post("/v1/push", pushBody(scopes, replica: replica), token: server.token)
            }
            try await withThrowingTaskGroup(of: [Int64].self) { group in
                for pusher in 0..<pushers {
                    group.addTask {
                        let replica = ReplicaID(unchecked: "r-\(pusher)")
                        for batch in 0..<batches {
                            let changes = try (1...perBatch).map { index in
                                try fieldChange(Int64(7 + batch * perBatch + index), replica: replica, customer: CustomerID(unchecked: "c-\(pusher)-\(index % 7)"),
                                                value: .string("v\(batch)"))
                            }
                            _ = try await client.post("/v1/push", pushBody(changes, replica: replica), token: server.token)
                        }
                        return []
                    }
                }
                group.addTask {
                    var cursor: String?
                    var positions: [Int64] = []
                    var idle = 0
                    while idle < 50 {
                        let body = cursor.map { "{\"after\":\"\($0)\",\"limit\":37}" } ?? "{\"limit\":37}"
                        let page = try WireCodec().decode(PullResponse.self, from: try await client.post("/v1/pull", body, token: server.token).text)
                        positions += page.changes.filter { $0.field != "scopes" }.map { Int64($0.replica.rawValue.dropFirst(2))! * 1_000_000 + $0.number }
                        cursor = page.nextCursor.rawValue
                        if page.changes.isEmpty { idle += 1; try await Task.sleep(for: .milliseconds(5)) } else { idle = 0 }
                        if positions.count == pushers * batches * perBatch { break }
                    }
                    return positions
                }
                var pulled: [Int64] = []
                for try await result in group { pulled += result }
                #expect(pulled.count == pushers * batches * perBatch)
                #expect(Set(pulled).count == pulled.count, "no change twice")
            }
        }
    }
}
