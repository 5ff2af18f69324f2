import Foundation
import OxpeckerServer
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
