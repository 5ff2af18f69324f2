import Foundation
import GRDB
import OxpeckerProtocol
import OxpeckerTestSupport
import Testing

@testable import OxpeckerServer
@_spi(OxpeckerServer) @testable import OxpeckerStore

/// A server database written by each earlier schema version, opened by today's
/// server: every device that bootstraps from it gets the same state, pushes go on,
/// and a redacted text or an erased customer does not come back. The earlier
/// databases are fixtures made by code: today's server database projected onto each
/// earlier schema (``SchemaProjection``), the server stopped. Real processes, serialized.
@Suite("Server databases of every earlier schema version (SQLite)", .serialized)
struct ServerUpgradeTests {
    /// The schema versions a released server wrote: the store's schema as it was then
    /// (v3 until the server's v12; v4, encryption, came after it) with each server version.
    static let releases: [(store: Int, server: Int)] =
        (1...ServerSchema.migrations.count).map { (3, $0) } + [(4, ServerSchema.migrations.count)]

    @Test("each earlier version's database opens with today's server: new devices bootstrap the same state, push, and converge")
    func opensAndServes() async throws {
        let server = try await SyncServerProcess.start(.sqlite)
        defer { server.killNow() }
        let token = try await server.createToken(name: "laptop-a")
        let folder = try ScratchFolder()
        let (a, _) = try await DeviceCLI.create(in: folder, named: "a.oxpecker")
        try await a.ok(["customer", "add", "c-1001", "--legal-name", "Jana Nováková", "--stage", "prospect", "--scope", "branch:HN01"])
        try await a.ok(["customer", "add", "c-1002", "--legal-name", "Petr Svoboda", "--scope", "branch:HN01"])
        try await a.ok(["customer", "add", "c-1003", "--legal-name", "Erased Person", "--scope", "branch:HN01"])
        try await a.ok(["customer", "add-to", "c-1001", "interests", "sailing"])
        try await a.ok(["note", "add", "c-1001", "--text", "Wants a mortgage for a cottage", "--author", "a-417", "--channel", "branch"])
        let slip = try await a.ok(["note", "add", "c-1002", "--text", "Wrote this by mistake", "--author", "a-417", "--channel", "phone"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try await a.ok(["consent", "c-1001", "--purpose", "marketing", "--grant", "--source", "branch"])
        try await a.sync(server, token: token)
        try await a.ok(["note", "redact", slip, "--by", "dpo", "--reason", "mistake"])
        try await a.ok(["customer", "set", "c-1001", "stage", "active"])
        try await a.sync(server, token: token)
        let erased = try await server.admin(["customer", "erase", "c-1003", "--by", "dpo-office"])
        #expect(erased.succeeded, "\(erased.stderr)")
        try await a.sync(server, token: token)
        let expected = try await server.exportState()
        #expect(expected == (try await a.exportBytes()))
        try await server.stop()

        let database = (server.dataDirectory as NSString).appendingPathComponent("server.oxpecker")
        let today = folder.path("today-server.oxpecker")
        try await DatabaseQueue(path: database).writeWithoutTransaction { db in
            _ = try db.checkpoint(.truncate)
            try db.execute(sql: "VACUUM INTO ?", arguments: [today])
        }
        for release in Self.releases {
            let label = "store v\(release.store), server v\(release.server)"
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
            try SchemaProjection.project(today, onto: database) { queue in
                try StoreSchema.migrator.migrate(queue, upTo: StoreSchema.migrationNames[release.store - 1])
                var server = DatabaseMigrator()
                for migration in ServerSchema.migrations { server.registerMigration(migration.name, migrate: migration.migrate) }
                try server.migrate(queue, upTo: ServerSchema.migrations[release.server - 1].name)
            }
            let applied = try await DatabaseQueue(path: database).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM grdb_migrations") }
            #expect(applied == release.store + release.server, "\(label): the fixture has the migrations of that release only")
            try await server.restart()
            let (c, _) = try await DeviceCLI.create(in: folder, named: "c-\(release.store)-\(release.server).oxpecker")
            let first = try await c.sync(server, token: token)
            #expect(first.integer("bootstrapped_customers") == 2, "\(label): \(first)")
            #expect(try await c.exportBytes() == expected, "\(label): a new device does not get the state the server had")
            try await c.ok(["note", "add", "c-1002", "--text", "Written after the upgrade", "--author", "a-502", "--channel", "branch"])
            try await c.sync(server, token: token)
            let (d, _) = try await DeviceCLI.create(in: folder, named: "d-\(release.store)-\(release.server).oxpecker")
            try await d.sync(server, token: token)
            let exported = try await d.exportBytes()
            #expect(exported == (try await c.exportBytes()), "\(label)")
            #expect(exported == (try await server.exportState()), "\(label)")
            let text = String(decoding: exported, as: UTF8.self)
            #expect(text.contains("Written after the upgrade") && text.contains("Wants a mortgage"), "\(label)")
            #expect(!text.contains("by mistake") && !text.contains("Erased Person"), "\(label): redacted or erased data came back")
            try await server.stop()
        }
    }
}
