import Foundation
import OxpeckerServer
import PostgresNIO
import Testing

/// The PostgreSQL backend's own start-up; skipped, with the way to run it, when no PostgreSQL is given.
@Suite("PostgreSQL backend")
struct PostgresStartupTests {
    @Test(
        "several instances starting at once on a new database: the migrations run once, every instance gets the same server replica",
        .enabled(if: ServerBackend.postgresURL != nil, ServerBackend.postgresSkipReason))
    func concurrentStart() async throws {
        let folder = try ScratchFolder()
        let database = try await TestDatabase.make(.postgres, dataDirectory: folder.path("data"))
        var storages: [any ServerStorage] = []
        defer { database.removeLater(closing: storages) }
        storages = try await withThrowingTaskGroup(of: (any ServerStorage).self) { group in
            for _ in 0..<4 { group.addTask { try await database.openStorage() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(storages.map(\.replica)).count == 1)
        #expect(try await storages[0].statistics().logChanges == 0)
    }

    @Test(
        "an instance waits for another's migrations however long they take (past its statement timeout), then starts",
        .enabled(if: ServerBackend.postgresURL != nil, ServerBackend.postgresSkipReason))
    func waitsForMigrations() async throws {
        let folder = try ScratchFolder()
        let database = try await TestDatabase.make(.postgres, dataDirectory: folder.path("data"))
        var storages: [any ServerStorage] = []
        defer { database.removeLater(closing: storages) }
        let statementTimeout = Duration.seconds(1)
        // Another instance migrating: it holds the migrations' advisory lock ('oxpmigr') in its transaction.
        let holding = Task {
            try await database.inTransaction { connection in
                for try await _ in try await connection.query("SELECT pg_advisory_xact_lock(\(Int64(0x6F78_706D_6967_72)))", logger: connection.logger) {}
                try await Task.sleep(for: statementTimeout * 3)
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        let starting = Task { try await database.openStorage(statementTimeout: statementTimeout) }
        // The new instance waits on that very lock (not on anything else, not failing at once).
        var waited = false
        for _ in 0..<100 where !waited {
            waited = try await database.count("SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") == 1
            if !waited { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(waited, "the starting instance never waited for the migrations' lock")
        try await holding.value
        let storage = try await starting.value
        storages = [storage]
        #expect(try await storage.statistics().logChanges == 0)
    }

    @Test(
        "oxpecker-server migrate applies the migrations and exits; again, it changes nothing; serve finds them applied",
        .enabled(if: ServerBackend.postgresURL != nil, ServerBackend.postgresSkipReason))
    func migrateCommand() async throws {
        let folder = try ScratchFolder()
        let database = try await TestDatabase.make(.postgres, dataDirectory: folder.path("data"))
        defer { database.removeLater() }
        for _ in 0..<2 {
            let result = try await ChildProcess(BuiltProducts.server, ["migrate"] + database.serverArguments, in: folder.url).wait(timeout: .seconds(60))
            #expect(result.succeeded && result.stdout.hasPrefix("migrated postgres://"), "\(result.stderr)")
            #expect(!result.stdout.contains("sslmode"))
        }
        let server = try await SyncServerProcess.start(on: database)
        let token = try await server.createToken(name: "after-migrate")
        #expect(try await server.loggedChanges(token: token).isEmpty)
        server.killNow()
    }
}
