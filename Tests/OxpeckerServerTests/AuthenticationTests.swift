import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore
import Testing

/// Device tokens, admin tokens and JWTs: who may call what, and how each bad
/// credential is refused (401 with its code, nothing stored).
@Suite("Authentication: device tokens, admin tokens, JWTs")
struct AuthenticationTests {
    static let now = Instant(millisecondsSince1970: 1_764_000_000_000)

    @Test("an expired device token gets 401 token_expired and changes nothing; one not yet expired works")
    func expiredToken() async throws {
        let server = try await ServerHarness.make()
        defer { server.remove() }
        let expired = try await server.storage.createToken(
            name: "old-laptop", scopes: [testScope], expiresAt: Instant(millisecondsSince1970: Self.now.millisecondsSince1970 - 1), now: Self.now)
        let current = try await server.storage.createToken(
            name: "new-laptop", scopes: [testScope], expiresAt: Instant(millisecondsSince1970: Self.now.millisecondsSince1970 + 60_000), now: Self.now)
        try await server.test { client in
            let refused = try await client.post("/v1/push", pushBody([try fieldChange(1)]), token: expired.secret)
            #expect(refused.status == .unauthorized)
            #expect(refused.json["code"] == "token_expired")
            #expect(refused.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            #expect(try await server.storage.logCount() == 0)
            let accepted = try await client.post("/v1/push", pushBody([try scopeChange(1), try fieldChange(2)]), token: current.secret)
            #expect(accepted.json["results"]?.arrayValue?.map { $0["outcome"] } == ["accepted", "accepted"])
            #expect(try await server.storage.logCount() == 2)
        }
    }

    @Test("a replica belongs to the token of its first push: another token may not push under it (403 forbidden, nothing stored) until the owner is revoked; another body under a held number is a replica_conflict", arguments: ServerBackend.all)
    func replicaBoundToToken(backend: ServerBackend) async throws {
        let server = try await ServerHarness.make(backend)
        defer { server.remove() }
        let thief = try await server.storage.createToken(name: "other-laptop", scopes: [testScope], expiresAt: nil, now: Self.now)
        let successor = try await server.storage.createToken(name: "new-token", scopes: [testScope], expiresAt: nil, now: Self.now)
        try await server.test { client in
            let first = try await client.post("/v1/push", pushBody([try scopeChange(1), try fieldChange(2)]), token: server.token)
            #expect(first.json["results"]?.arrayValue?.map { $0["outcome"] } == ["accepted", "accepted"])
            // Another token fills r-1's next numbers: refused, so the real device's change 3 is still its own.
            let forged = try await client.post("/v1/push", pushBody([try fieldChange(3, value: "Forged")]), token: thief.secret)
            #expect(forged.status == .forbidden && forged.json["code"] == "forbidden")
            #expect(try await server.storage.logCount() == 2)
            let real = try await client.post("/v1/push", pushBody([try fieldChange(3, value: "Real")]), token: server.token)
            #expect(real.json["results"]?.arrayValue?.map { $0["outcome"] } == ["accepted"])
            // A retry is a duplicate; another body under a held number (a copied store file) is a replica_conflict, not stored.
            let retry = try await client.post("/v1/push", pushBody([try fieldChange(3, value: "Real")]), token: server.token)
            #expect(retry.json["results"]?.arrayValue?.map { $0["outcome"] } == ["duplicate"])
            let copy = try await client.post("/v1/push", pushBody([try fieldChange(3, value: "Copy")]), token: server.token)
            #expect(copy.json["results"]?.arrayValue?.first?["reason"] == "replica_conflict")
            let state = try await server.storage.exportState()
            #expect(state.contains("Real") && !state.contains("Copy"))
            // A device given a new token: once the old one is revoked, the replica moves to the new one.
            let old = try #require(try await server.storage.tokens().first { $0.name == "laptop-1" }?.id)
            #expect(try await client.post("/v1/push", pushBody([try fieldChange(4)]), token: successor.secret).status == .forbidden)
            #expect(try await server.storage.revokeToken(id: old, at: Self.now))
            let moved = try await client.post("/v1/push", pushBody([try fieldChange(4)]), token: successor.secret)
            #expect(moved.json["results"]?.arrayValue?.map { $0["outcome"] } == ["accepted"])
            #expect(try await client.post("/v1/push", pushBody([try fieldChange(5)]), token: thief.secret).status == .forbidden)
            #expect(try await server.storage.logCount() == 4)
        }
    }

    @Test("a revoked token is refused with token_revoked from the very next request on")
    func revokedToken() async throws {
        let server = try await ServerHarness.make()
        defer { server.remove() }
        try await server.test { client in
            let first = try await client.post("/v1/push", pushBody([try scopeChange(1), try fieldChange(2)]), token: server.token)
            #expect(first.json["results"]?.arrayValue?.map { $0["outcome"] } == ["accepted", "accepted"])
            let id = try #require(try await server.storage.tokens().first?.id)
            #expect(try await server.storage.revokeToken(id: id, at: Self.now))
            let refused = try await client.post("/v1/push", pushBody([try fieldChange(3, field: "advisor", value: "a-1")]), token: server.token)
            #expect(refused.status == .unauthorized)
            #expect(refused.json["code"] == "token_revoked")
            #expect(try await server.storage.logCount() == 2)
            let pull = try await client.post("/v1/pull", #"{"limit":10}"#, token: server.token)
            #expect(pull.json["code"] == "token_revoked", "reads are refused too")
        }
    }

    @Test("a missing or malformed credential gets 401 unauthorized and changes nothing", arguments: [
        nil, "", "Bearer", "Bearer ", "Basic bGFwdG9wOnNlY3JldA==", "Bearer oxp_not-a-token-of-this-server", "Bearer oxp_ä",
        "Bearer a.b", "Bearer a..c", "Bearer " + String(repeating: "x", count: 9000), "bearer  oxp_lowercase-scheme",
        "Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2ln",
    ])
    func malformedCredential(header: String?) async throws {
        let server = try await ServerHarness.make()
        defer { server.remove() }
        try await server.test { client in
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            headers[HTTPField.Name("Oxpecker-Protocol")!] = "1"
            if let header { headers[.authorization] = header }
            let response = try await client.execute(
                uri: "/v1/push", method: .post, headers: headers, body: ByteBuffer(string: pushBody([try fieldChange(1)])))
            #expect(response.status == .unauthorized)
            #expect(response.json["code"] == "unauthorized")
            #expect(try await server.storage.logCount() == 0)
        }
    }

    @Test("an admin token cannot sync: 403 forbidden")
    func adminTokenCannotSync() async throws {
        let server = try await ServerHarness.make()
        defer { server.remove() }
        let admin = try await server.storage.createToken(.admin, name: "ops", scopes: [], expiresAt: nil, now: Self.now)
        #expect(admin.secret.hasPrefix("oxpa_") && admin.id.hasPrefix("adm-"))
        try await server.test { client in
            let response = try await client.post("/v1/push", pushBody([try fieldChange(1)]), token: admin.secret)
            #expect(response.status == .forbidden)
            #expect(response.json["code"] == "forbidden")
            #expect(try await server.storage.logCount() == 0)
        }
    }

    @Test("admin endpoints need an admin token: a device token or a JWT is forbidden, none is unauthorized")
    func adminEndpointsRefuseDevices() async throws {
        let server = try await ServerHarness.make()
        defer { server.remove() }
        let provider = TestIdentityProvider()
        let jwt = try await provider.sign()
        let admin = try await server.storage.createToken(.admin, name: "ops", scopes: [], expiresAt: nil, now: Self.now)
        try await server.test(jwt: provider.settings) { client in
            let none = try await client.execute(uri: "/v1/admin/tokens", method: .get)
            #expect(none.status == .unauthorized && none.json["code"] == "unauthorized")
            for credential in [server.token, jwt] {
                let response = try await client.execute(uri: "/v1/admin/tokens", method: .get, headers: [.authorization: "Bearer \(credential)"])
                #expect(response.status == .forbidden && response.json["code"] == "forbidden")
            }
            let revoke = try await client.execute(
                uri: "/v1/admin/tokens/\(try await server.storage.tokens()[0].id)/revoke", method: .post,
                headers: [.authorization: "Bearer \(server.token)"])
            #expect(revoke.status == .forbidden)
            #expect(try await server.storage.tokens()[0].revokedAt == nil, "a device cannot revoke a token")

            let listed = try await client.execute(uri: "/v1/admin/tokens", method: .get, headers: [.authorization: "Bearer \(admin.secret)"])
            #expect(listed.status == .ok)
            #expect(listed.json["tokens"]?.arrayValue?.map { $0["name"] } == ["laptop-1"])
            #expect(!listed.text.contains(server.token) && !listed.text.contains("hash"), "never a secret or its hash")
        }
    }

    @Test("an administrator revokes a device token over HTTP; the device's next request is refused")
    func adminRevokesOverHTTP() async throws {
        let server = try await ServerHarness.make()
        defer { server.remove() }
        let admin = try await server.storage.createToken(.admin, name: "ops", scopes: [], expiresAt: nil, now: Self.now)
        let id = try #require(try await server.storage.tokens().first?.id)
        try await server.test { client in
            let revoked = try await client.execute(
                uri: "/v1/admin/tokens/\(id)/revoke", method: .post, headers: [.authorization: "Bearer \(admin.secret)"])
            #expect(revoked.status == .ok && revoked.json["revoked"] == .string(id))
            let again = try await client.execute(
                uri: "/v1/admin/tokens/\(id)/revoke", method: .post, headers: [.authorization: "Bearer \(admin.secret)"])
            #expect(again.status == .notFound && again.json["code"] == "not_found")
            let push = try await client.post("/v1/push", pushBody([try fieldChange(1)]), token: server.token)
            #expect(push.json["code"] == "token_revoked")
            #expect(try await server.storage.logCount() == 0)
        }
        let trail = try await server.storage.auditTrail(.device(tokenID: id), limit: 10)
        let adminID = try #require(try await server.storage.tokens(.admin).first?.id)
        #expect(trail.last?.action == .tokenRevoke && trail.last?.actor == adminID, "the audit trail names the administrator")
    }

    @Test("a revoked or expired admin token is refused on admin endpoints")
    func badAdminTokens() async throws {
        let server = try await ServerHarness.make()
        defer { server.remove() }
        let revoked = try await server.storage.createToken(.admin, name: "gone", scopes: [], expiresAt: nil, now: Self.now)
        let revokedID = try #require(try await server.storage.tokens(.admin).first?.id)
        #expect(try await server.storage.revokeToken(id: revokedID, at: Self.now))
        let expired = try await server.storage.createToken(
            .admin, name: "old", scopes: [], expiresAt: Instant(millisecondsSince1970: Self.now.millisecondsSince1970 - 1), now: Self.now)
        try await server.test { client in
            for (secret, code) in [(revoked.secret, "token_revoked"), (expired.secret, "token_expired")] {
                let response = try await client.execute(uri: "/v1/admin/tokens", method: .get, headers: [.authorization: "Bearer \(secret)"])
                #expect(response.status == .unauthorized)
                #expect(response.json["code"] == .string(code))
            }
        }
    }
}

extension ServerHarness {
    /// Drives the server in-process with `jwt` set in its configuration.
    func test(jwt: JWTSettings?, _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        var configuration = configuration
        configuration.jwt = jwt
        let app = try await buildApplication(configuration: configuration, storage: storage)
        try await app.test(.router) { client in try await body(client) }
    }
}
