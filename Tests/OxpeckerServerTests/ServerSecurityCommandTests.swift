import Foundation
import OxpeckerProtocol
import Testing

/// The real executables: `oxpecker-server token|admin-token` and
/// `serve --tls-certificate/--tls-key`, with `oxpecker sync --ca-file`.
@Suite("End to end: tokens and TLS through the executables", .serialized)
struct ServerSecurityCommandTests {
    static func server(_ arguments: [String], in folder: ScratchFolder) async throws -> ProcessResult {
        try await ChildProcess(BuiltProducts.server, arguments + ["--data-dir", folder.path("data")], in: folder.url).wait(timeout: .seconds(60))
    }

    @Test("token create prints only the secret on stdout; list shows name, scopes and expiry, never the secret; revoke works once")
    func tokenLifecycle() async throws {
        let folder = try ScratchFolder()
        let created = try await Self.server(
            ["token", "create", "--name", "laptop-hn01", "--scope", "branch:HN01", "--expires-in", "30d"], in: folder)
        #expect(created.succeeded, "\(created.stderr)")
        let secret = created.stdout.trimmingCharacters(in: .newlines)
        #expect(secret.hasPrefix("oxp_") && !secret.contains("\n"))
        #expect(created.stderr.contains("expires") && created.stderr.contains("shown only once"))

        let listed = try await Self.server(["token", "list"], in: folder)
        #expect(listed.stdout.contains("laptop-hn01") && listed.stdout.contains("branch:HN01") && listed.stdout.contains("active, expires"))
        #expect(!listed.stdout.contains(secret))
        let id = try #require(listed.stdout.split(separator: " ").first.map(String.init))

        #expect(try await Self.server(["token", "revoke", id], in: folder).succeeded)
        #expect(try await Self.server(["token", "list"], in: folder).stdout.contains("revoked"))
        let again = try await Self.server(["token", "revoke", id], in: folder)
        #expect(again.status == 3 && again.stderr.contains("no active token"))
    }

    @Test("a bad expiry is refused with a message and makes no token", arguments: [
        ["--expires-in", "0d"], ["--expires-in", "30x"], ["--expires-in", "d"], ["--expires-at", "2020-01-01"],
        ["--expires-at", "next week"], ["--expires-in", "1d", "--expires-at", "2099-01-01"],
    ])
    func badExpiry(options: [String]) async throws {
        let folder = try ScratchFolder()
        let result = try await Self.server(["token", "create", "--name", "laptop"] + options, in: folder)
        #expect(!result.succeeded)
        #expect(result.stderr.contains("expires"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(try await Self.server(["token", "list"], in: folder).stdout.isEmpty)
    }

    @Test("admin tokens are made, listed and revoked apart from device tokens")
    func adminTokens() async throws {
        let folder = try ScratchFolder()
        let created = try await Self.server(["admin-token", "create", "--name", "ops-oncall", "--expires-at", "2099-01-31"], in: folder)
        #expect(created.succeeded, "\(created.stderr)")
        #expect(created.stdout.hasPrefix("oxpa_"))
        let listed = try await Self.server(["admin-token", "list"], in: folder)
        #expect(listed.stdout.contains("ops-oncall") && listed.stdout.contains("2099-01-31T00:00:00.000Z"))
        #expect(try await Self.server(["token", "list"], in: folder).stdout.isEmpty, "not a device token")
        let id = try #require(listed.stdout.split(separator: " ").first.map(String.init))
        #expect(id.hasPrefix("adm-"))
        #expect(try await Self.server(["admin-token", "revoke", id], in: folder).succeeded)
    }

    @Test("oxpecker sync --ca-file against oxpecker-server serve --tls-certificate/--tls-key; without the CA it is refused")
    func syncOverTLSWithExecutables() async throws {
        let folder = try ScratchFolder()
        let certificates = try TestCertificates.make(in: folder)
        let server = try await SyncServerProcess.start(
            serveOptions: ["--tls-certificate", certificates.serverCertificateFile, "--tls-key", certificates.serverKeyFile])
        defer { server.killNow() }
        #expect(server.url.hasPrefix("https://"))
        let token = try await server.createToken(name: "laptop-a")
        let (device, _) = try await DeviceCLI.create(in: folder, named: "a.oxpecker")
        try await device.ok(["customer", "add", "c-1001", "--legal-name", "Jana Nováková", "--stage", "active", "--scope", "branch:HN01"])

        let untrusted = try await device.run(["sync", "--server", server.url, "--token", token, "--max-attempts", "3"])
        #expect(untrusted.status == 7, "\(untrusted.stderr)")
        #expect(untrusted.stderr.contains("certificate"), "\(untrusted.stderr)")
        #expect(try await device.outboxCount() > 0)

        let synced = try await device.ok(
            ["sync", "--server", server.url, "--token", token, "--json"], environment: ["OXPECKER_CA_FILE": certificates.authorityFile])
        #expect(try JSONValue(parsing: synced.stdout.trimmingCharacters(in: .whitespacesAndNewlines)).integer("pushed") ?? 0 > 0)
        #expect(try await device.outboxCount() == 0)
        let state = String(decoding: try await server.exportState(), as: UTF8.self)
        #expect(state.contains("Jana Nováková"))
    }

    @Test("serve --jwt-issuer/--jwt-audience/--jwt-public-key: oxpecker sync with a JWT as its token; a JWT of another issuer is refused")
    func syncWithJWTThroughExecutables() async throws {
        let folder = try ScratchFolder()
        let provider = TestIdentityProvider()
        try provider.key.publicKey.pemRepresentation.write(toFile: folder.path("idp.pem"), atomically: true, encoding: .utf8)
        let server = try await SyncServerProcess.start(serveOptions: [
            "--jwt-issuer", TestIdentityProvider.issuer, "--jwt-audience", TestIdentityProvider.audience,
            "--jwt-public-key", folder.path("idp.pem"),
        ])
        defer { server.killNow() }
        let now = Int64(Date().timeIntervalSince1970)
        let jwt = try await provider.sign(TestClaims(exp: now + 600))
        var foreign = TestClaims(exp: now + 600)
        foreign.iss = "https://idp.attacker.test"
        let (device, _) = try await DeviceCLI.create(in: folder, named: "a.oxpecker")
        try await device.ok(["customer", "add", "c-1001", "--legal-name", "Jana Nováková", "--scope", testScope])

        let refused = try await device.run(["sync", "--server", server.url, "--token", try await provider.sign(foreign)])
        #expect(refused.status == 7 && refused.stderr.contains("token_invalid"), "\(refused.stderr)")
        let synced = try await device.sync(server, token: jwt)
        #expect(synced.integer("pushed") ?? 0 > 0)
        #expect(String(decoding: try await server.exportState(), as: UTF8.self).contains("Jana Nováková"))
    }

    @Test("serve refuses half a TLS or JWT configuration, with a message", arguments: [
        ["--tls-certificate", "server.pem"], ["--jwt-issuer", "https://idp.example-bank.test"],
        ["--jwt-issuer", "https://idp.example-bank.test", "--jwt-audience", "oxpecker"],
    ])
    func halfConfigurations(options: [String]) async throws {
        let folder = try ScratchFolder()
        let result = try await Self.server(["serve", "--port", "0"] + options, in: folder)
        #expect(!result.succeeded)
        #expect(result.stderr.contains("--tls-key") || result.stderr.contains("--jwt-audience"), "\(result.stderr)")
    }
}
