import Foundation
import HummingbirdTesting
import Logging
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore
import OxpeckerSync
import Testing

/// HTTPS: the server with a certificate from a CA made for the test, the sync
/// client trusting that CA (`--ca-file`), and what is refused.
@Suite("TLS: HTTPS server, verifying client", .serialized)
struct TLSTests {
    static let oneAttempt = RetryPolicy(maximumAttempts: 1, maximumElapsed: .seconds(5))

    @Test("a sync over HTTPS with the bank's own CA: one store pushes, a new one bootstraps the same state")
    func syncOverTLS() async throws {
        try await TLSServer.run { server in
            let a = try CustomerStore.create(at: server.folder.path("a.oxpecker"))
            try await addCustomers(30, to: a)
            var configuration = SyncConfiguration(server: server.url, token: server.token, retry: Self.oneAttempt)
            configuration.certificateAuthorityFile = server.certificates.authorityFile
            let pushed = try await SyncClient(store: a, configuration: configuration).sync()
            #expect(pushed.pushed > 0 && pushed.pending == 0)

            let b = try CustomerStore.create(at: server.folder.path("b.oxpecker"))
            let pulled = try await SyncClient(store: b, configuration: configuration).sync()
            #expect(pulled.bootstrappedCustomers == 30)
            let exportA = try await a.read { reader in var text = ""; try reader.exportJSON { text += $0 }; return text }
            let exportB = try await b.read { reader in var text = ""; try reader.exportJSON { text += $0 }; return text }
            #expect(exportA == exportB)
        }
    }

    @Test("plain HTTP to the HTTPS port gets no answer, and nothing is stored")
    func plainHTTPRefused() async throws {
        try await TLSServer.run { server in
            let plain = try HTTPSyncTransport(server: server.url.replacingOccurrences(of: "https://", with: "http://"), timeout: .seconds(10))
            let body = WireCodec().encode(PushRequest(replica: "r-1", changes: [try fieldChange(1)]))
            await #expect(throws: TransportFailure.self) {
                try await plain.post(
                    path: "/v1/push", body: body,
                    headers: [("Oxpecker-Protocol", "1"), ("Authorization", "Bearer \(server.token)"), ("Content-Type", "application/json")])
            }
            #expect(try await server.storage.logCount() == 0)
        }
    }

    @Test("a client that does not trust the server's CA refuses it at once, sending nothing", arguments: ["system roots", "another CA"])
    func untrustedServerRefused(trusting: String) async throws {
        try await TLSServer.run { server in
            let store = try CustomerStore.create(at: server.folder.path("a.oxpecker"))
            try await addCustomers(3, to: store)
            var configuration = SyncConfiguration(server: server.url, token: server.token, retry: RetryPolicy(maximumAttempts: 5, maximumElapsed: .seconds(30)))
            let otherFolder = try ScratchFolder()
            if trusting == "another CA" {
                configuration.certificateAuthorityFile = try TestCertificates.make(in: otherFolder, name: "Another CA").authorityFile
            }
            do {
                try await SyncClient(store: store, configuration: configuration).sync()
                Issue.record("the sync succeeded with an untrusted server")
            } catch let error as SyncError {
                guard case .tlsFailed = error else { Issue.record("expected tlsFailed, got \(error)"); return }
                #expect("\(error)".contains("certificate"))
            }
            #expect(try await server.storage.logCount() == 0)
            #expect(try await store.read { try $0.outboxCount() } > 0, "nothing left the outbox")
        }
    }

    @Test("a CA file that is not a PEM certificate is refused before any connection")
    func unreadableCAFile() async throws {
        let folder = try ScratchFolder()
        try "not a certificate".write(toFile: folder.path("ca.pem"), atomically: true, encoding: .utf8)
        for path in [folder.path("ca.pem"), folder.path("missing.pem")] {
            #expect {
                _ = try HTTPSyncTransport(server: "https://127.0.0.1:1", certificateAuthorityFile: path)
            } throws: { error in
                guard case SyncError.invalidCertificateAuthority(let named, _) = error else { return false }
                return named == path
            }
        }
    }

    @Test("a TLS key or certificate that does not load stops the server from starting")
    func badServerFiles() async throws {
        let folder = try ScratchFolder()
        let certificates = try TestCertificates.make(in: folder)
        for (chain, key) in [(folder.path("missing.pem"), certificates.serverKeyFile), (certificates.serverCertificateFile, certificates.authorityFile)] {
            var configuration = ServerConfiguration(port: 0, dataDirectory: folder.path("data"))
            configuration.tls = TLSSettings(certificateChainFile: chain, privateKeyFile: key)
            await #expect(throws: ConfigurationError.self) { _ = try await buildApplication(configuration: configuration) }
        }
    }
}

/// The real server with TLS, live on a loopback port in this process, with one device token.
struct TLSServer: Sendable {
    let url: String
    let token: String
    let storage: SQLiteServerStorage
    let folder: ScratchFolder
    let certificates: TestCertificates

    /// Runs `body` with an HTTPS server on a new data folder; stops it afterwards.
    static func run(_ body: @escaping @Sendable (TLSServer) async throws -> Void) async throws {
        let folder = try ScratchFolder()
        let certificates = try TestCertificates.make(in: folder)
        let storage = try SQLiteServerStorage(dataDirectory: folder.path("data"))
        let token = try await storage.createToken(
            name: "device", scopes: [testScope], expiresAt: nil, now: Instant(millisecondsSince1970: WallClock.system.now()))
        var configuration = ServerConfiguration(port: 0, dataDirectory: folder.path("data"))
        configuration.tls = TLSSettings(certificateChainFile: certificates.serverCertificateFile, privateKeyFile: certificates.serverKeyFile)
        var logger = Logger(label: "oxpecker-server-test")
        logger.logLevel = .warning
        let app = try await buildApplication(configuration: configuration, storage: storage, logger: logger)
        // HummingbirdTesting's HTTPS mode runs the server and shuts it down gracefully; its own client is not used.
        try await app.test(.ahc(.https)) { client in
            let port = try #require(client.port)
            try await body(
                TLSServer(url: "https://127.0.0.1:\(port)", token: token.secret, storage: storage, folder: folder, certificates: certificates))
        }
    }
}
