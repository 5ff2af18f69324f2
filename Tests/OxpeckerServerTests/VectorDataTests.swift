import Foundation
import HummingbirdTesting
import OxpeckerProtocol
import OxpeckerServer
import Testing

/// The golden vectors show what devices really send: their device changes are
/// data the server accepts, not only well-formed messages.
@Suite("Vectors a device could push")
struct VectorDataTests {
    static let vectors = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Protocol/vectors/valid")

    static func decode<Message: WireMessage>(_ type: Message.Type, _ name: String) throws -> Message {
        try WireCodec().decode(type, from: Array(try Data(contentsOf: vectors.appendingPathComponent(name)).dropLast()))
    }

    static func outcomes(_ response: TestResponse) -> [String] {
        (response.json["results"]?.arrayValue ?? []).map { result in
            result["reason"]?.stringValue ?? result["outcome"]?.stringValue ?? "?"
        }
    }

    @Test("bootstrap_page.first's customer is created the way a device creates one, and change.exact_values is valid data", arguments: ServerBackend.all)
    func creationFormIsAccepted(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        let page = try Self.decode(BootstrapPage.self, "bootstrap_page.first.json")
        let exact = try Self.decode(Change.self, "change.exact_values.json")
        let changes = try #require(page.customers.first).changes + [exact]
        try await server.test { client in
            let response = try await client.post("/v1/push", pushBody(changes, replica: exact.replica), token: server.token)
            #expect(Self.outcomes(response) == changes.map { _ in "accepted" }, "\(response.text)")
        }
    }

    @Test("push_request.every_kind is accepted once its customer is in the device's scope", arguments: ServerBackend.all)
    func everyKindIsAccepted(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        let push = try Self.decode(PushRequest.self, "push_request.every_kind.json")
        #expect(!push.changes.contains { $0.kind == .erasure || $0.entity == .customer }, "a device never pushes an erasure")
        try await server.test { client in
            let customers = Set(push.changes.map(\.customer)).sorted { $0.rawValue < $1.rawValue }
            let scopes = try customers.enumerated().map { index, customer in
                try scopeChange(Int64(index + 1), replica: "r-branch-desk", customer: customer, wall: 1_763_000_000_000)
            }
            _ = try await client.post("/v1/push", pushBody(scopes, replica: "r-branch-desk"), token: server.token)
            let response = try await client.post("/v1/push", WireCodec().encodeText(push), token: server.token)
            #expect(Self.outcomes(response) == push.changes.map { _ in "accepted" }, "\(response.text)")
        }
    }

    @Test("a device's customer-entity change is invalid_change, with a message that says how a customer is created", arguments: ServerBackend.all)
    func customerEntityFromDevice(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        let replica: ReplicaID = "r-1"
        func stamp(_ number: Int64) throws -> HybridTimestamp {
            try HybridTimestamp(wallMillis: 1_764_000_000_000 + number, counter: 0, replica: replica)
        }
        let creation = Change(
            replica: replica, number: 2, hlc: try stamp(2), customer: "c-1", entity: .customer, field: nil, record: nil,
            kind: .register, value: ["created_at": "2025-01-10T09:00:00.000Z"])
        let erasure = Change(
            replica: replica, number: 3, hlc: try stamp(3), customer: "c-1", entity: .customer, field: nil, record: nil,
            kind: .erasure, value: ["at": "2026-11-24T16:00:00.000Z", "by": "ops-3"])
        try await server.test { client in
            let response = try await client.post("/v1/push", pushBody([try scopeChange(1), creation, erasure]), token: server.token)
            let results = response.json["results"]?.arrayValue ?? []
            #expect(Self.outcomes(response) == ["accepted", "invalid_change", "invalid_change"], "\(response.text)")
            let creationMessage = results.count == 3 ? results[1]["message"]?.stringValue ?? "" : ""
            #expect(creationMessage.contains("'scopes'") && !creationMessage.contains("erasure is"), "\(creationMessage)")
            let erasureMessage = results.count == 3 ? results[2]["message"]?.stringValue ?? "" : ""
            #expect(erasureMessage.contains("administrator"), "\(erasureMessage)")
            #expect(try await server.storage.logCount() == 1)
        }
    }
}
