import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import OxpeckerProtocol
import OxpeckerServer
import Testing

/// `Oxpecker-Request-Id` over a real socket: the client's id when it obeys the
/// identifier rule, one the server makes otherwise, never the header's text.
@Suite("Request ids")
struct RequestIDTests {
    static let header = HTTPField.Name("Oxpecker-Request-Id")!

    /// Runs `body` against a server on a loopback port, logging into `records`.
    static func live(
        _ server: ServerHarness, records: LogRecords, _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        var logger = Logger(label: "test") { _ in CapturingLogHandler(records: records) }
        logger.logLevel = .trace
        let app = try await buildApplication(configuration: server.configuration, storage: server.storage, logger: logger)
        try await app.test(.live) { client in try await body(client) }
    }

    /// POSTs `body` to `path` with `Oxpecker-Request-Id` set to each of `ids`.
    static func post(
        _ client: any TestClientProtocol, _ path: String, _ body: String, token: String?, ids: [String]
    ) async throws -> TestResponse {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[HTTPField.Name("Oxpecker-Protocol")!] = "1"
        if let token { headers[.authorization] = "Bearer \(token)" }
        for id in ids { headers.append(HTTPField(name: header, value: id)) }
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    @Test("a well-formed client id is the request's id: in the header, the error envelope and every log line", arguments: [
        "client-7f3b", "r-laptop-hn01-7:42", "A.b_c-9", String(repeating: "x", count: 64),
    ])
    func clientIDIsUsed(id: String) async throws {
        let server = try await ServerHarness.make()
        defer { server.remove() }
        let records = LogRecords()
        try await Self.live(server, records: records) { client in
            let accepted = try await Self.post(client, "/v1/pull", #"{"limit":5}"#, token: server.token, ids: [id])
            #expect(accepted.status == .ok)
            #expect(accepted.headers[Self.header] == id)
            let refused = try await Self.post(client, "/v1/pull", #"{"limit":5}"#, token: nil, ids: [id])
            #expect(refused.status == .unauthorized)
            #expect(refused.headers[Self.header] == id)
            #expect(refused.json["request_id"] == .string(id))
        }
        let lines = records.all.filter { $0.metadata["hb.request.id"] != nil }
        #expect(!lines.isEmpty)
        for line in lines { #expect(line.metadata["request_id"] == id, "'\(line.message)' logged \(line.metadata["request_id"] ?? "no id")") }
    }

    @Test("a malformed client id is replaced by one the server makes, and its text is echoed nowhere", arguments: [
        "", "has space", "new\\nline", "<script>", "q\"uote", "ünïcode", "a/b", String(repeating: "x", count: 65),
    ])
    func malformedIDIsReplaced(id: String) async throws {
        let server = try await ServerHarness.make()
        defer { server.remove() }
        let records = LogRecords()
        try await Self.live(server, records: records) { client in
            let refused = try await Self.post(client, "/v1/pull", #"{"limit":5}"#, token: nil, ids: [id])
            #expect(refused.status == .unauthorized)
            let made = try #require(refused.headers[Self.header])
            #expect(made.hasPrefix("req-") && made.count == 20, "made \(made)")
            #expect(refused.json["request_id"] == .string(made))
            if !id.isEmpty { #expect(!refused.text.contains(id)) }
        }
        if !id.isEmpty {
            for line in records.all {
                #expect(!line.message.contains(id) && !line.metadata.values.contains { $0.contains(id) }, "logged '\(line.message)' \(line.metadata)")
            }
        }
    }

    @Test("two Oxpecker-Request-Id headers are not one id: the server makes its own")
    func twoHeaders() async throws {
        let server = try await ServerHarness.make()
        defer { server.remove() }
        try await Self.live(server, records: LogRecords()) { client in
            let response = try await Self.post(client, "/v1/pull", #"{"limit":5}"#, token: server.token, ids: ["first-id", "second-id"])
            #expect(response.status == .ok)
            let made = try #require(response.headers[Self.header])
            #expect(made.hasPrefix("req-"), "made \(made)")
        }
    }

    @Test("without the header, each request gets a new id of the server's")
    func noHeader() async throws {
        let server = try await ServerHarness.make()
        defer { server.remove() }
        try await Self.live(server, records: LogRecords()) { client in
            let first = try await Self.post(client, "/v1/pull", #"{"limit":5}"#, token: server.token, ids: [])
            let second = try await Self.post(client, "/v1/pull", #"{"limit":5}"#, token: server.token, ids: [])
            let ids = [first, second].compactMap { $0.headers[Self.header] }
            #expect(ids.count == 2 && ids.allSatisfy { $0.hasPrefix("req-") } && ids[0] != ids[1], "\(ids)")
        }
    }
}
