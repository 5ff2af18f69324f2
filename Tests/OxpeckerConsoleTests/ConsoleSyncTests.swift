import Foundation
import Hummingbird
import Logging
import OxpeckerConsole
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore
import OxpeckerSync
import Testing

/// The Sync page's button runs the same sync client as `oxpecker sync`, against a real server.
@Suite("Console sync")
struct ConsoleSyncTests {
    @Test("a note added on the page reaches another device through the Sync button and a real server")
    func syncButton() async throws {
        try await SyncServer.run { server in
            let settings = ConsoleSyncSettings(server: server.url, token: server.token, retry: RetryPolicy(maximumAttempts: 1))
            try await LiveConsole.run(configuration: ConsoleConfiguration(sync: settings), prepare: TestCustomers.add) { console in
                let browser = try await console.signedInBrowser()
                let added = try await browser.submit(
                    "/customers/c-1002/notes", from: "/customers/c-1002",
                    [("text", "Chce spořit na byt; zavolat v lednu"), ("author", "a-417"), ("channel", "branch")])
                #expect(added.status == 303)
                let waiting = try await console.outboxCount()
                #expect(waiting > 0)
                let page = try await browser.get("/sync")
                #expect(page.body.contains("<td>\(waiting)</td>") && page.body.contains("Sync now"))

                let synced = try await browser.submit("/sync", from: "/sync", [])
                #expect(synced.status == 303 && synced.location == "/sync")
                #expect(try await console.outboxCount() == 0, "everything was pushed")
                let after = try await browser.get("/sync")
                #expect(after.body.contains("pushed \(waiting), pulled"))
                #expect(after.body.contains(server.url))
                #expect(!after.body.contains("never synced"))

                let other = try CustomerStore.create(at: console.folder.path("other.oxpecker"))
                defer { try? other.close() }
                let client = try SyncClient(store: other, configuration: SyncConfiguration(server: server.url, token: server.token))
                try await client.sync()
                let notes = try await other.read { try $0.notes(of: TestCustomers.jana) }
                #expect(notes.contains { $0.text == "Chce spořit na byt; zavolat v lednu" }, "the other device has the note")
            }
        }
    }

    @Test("a refused sync (a wrong token) says why on the page and keeps the outbox")
    func refusedSync() async throws {
        try await SyncServer.run { server in
            let settings = ConsoleSyncSettings(server: server.url, token: "oxp_wrong", retry: RetryPolicy(maximumAttempts: 1))
            try await LiveConsole.run(configuration: ConsoleConfiguration(sync: settings), prepare: TestCustomers.add) { console in
                let browser = try await console.signedInBrowser()
                let waiting = try await console.outboxCount()
                let answer = try await browser.submit("/sync", from: "/sync", [])
                #expect(answer.status == 502)
                #expect(answer.body.contains("role=\"alert\">sync failed: "))
                #expect(try await console.outboxCount() == waiting)
                #expect(try await browser.get("/sync").body.contains("sync failed"), "the last sync's outcome stays on the page")
            }
        }
    }
}

/// The real sync server on a loopback port of this process, embedded SQLite, one device token for `branch:HN01`.
struct SyncServer: Sendable {
    let url: String
    let token: String

    static func run(_ body: @Sendable (SyncServer) async throws -> Void) async throws {
        let folder = try ScratchFolder()
        let storage = try SQLiteServerStorage(dataDirectory: folder.path("data"))
        let token = try await storage.createToken(
            name: "laptop", scopes: ["branch:HN01"], expiresAt: nil, now: Instant(millisecondsSince1970: WallClock.system.now()))
        var logger = Logger(label: "oxpecker-server-test")
        logger.logLevel = .critical
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try await buildApplication(
            configuration: ServerConfiguration(port: 0, dataDirectory: folder.path("data")), storage: storage, logger: logger
        ) { port in
            continuation.yield(port)
            continuation.finish()
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                group.cancelAll()
                throw ConsoleTestError("the sync server did not start")
            }
            do {
                try await body(SyncServer(url: "http://127.0.0.1:\(port)", token: token.secret))
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }
}
